import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { redactText } from '@openai-proxy/util-auth-headers';
import { PROXY_ALIASES } from '@openai-proxy/util-config';
import { SERVICES_MANIFEST, type ServiceName, backendServices, serviceEnvNames } from '@openai-proxy/util-services';
import { GATEWAY_ENV_ALIASES, gatewayEnvShape, loadGatewayConfig } from '../src/config/gateway.env';
// Deployment checks read every app's configuration schema.
import {
  OPENAI_RELAY_ENV_ALIASES,
  loadOpenAiRelayConfig,
  openAiRelayEnvShape,
} from '../../openai-relay/src/config/openai-relay.env';
import {
  CLAUDE_BRIDGE_ENV_ALIASES,
  claudeBridgeEnvShape,
  loadClaudeBridgeConfig,
} from '../../claude-bridge/src/config/claude-bridge.env';
import {
  BARD_BRIDGE_ENV_ALIASES,
  bardBridgeEnvShape,
  loadBardBridgeConfig,
} from '../../bard-bridge/src/config/bard-bridge.env';

const root = join(__dirname, '..', '..', '..');

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

type Validatable = { validate(): void };
const MODELS: Record<string, new (value: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const LOADERS: Record<ServiceName, (env: Record<string, string>) => unknown> = {
  gateway: loadGatewayConfig,
  'openai-relay': loadOpenAiRelayConfig,
  'claude-bridge': loadClaudeBridgeConfig,
  'bard-bridge': loadBardBridgeConfig,
};
/** Each app's schema and the other spellings it accepts: what the app reads from its environment. */
const ENV_SCHEMAS: Record<ServiceName, { shape: object; aliases: Readonly<Record<string, readonly string[]>> }> = {
  gateway: { shape: gatewayEnvShape, aliases: GATEWAY_ENV_ALIASES },
  'openai-relay': { shape: openAiRelayEnvShape, aliases: OPENAI_RELAY_ENV_ALIASES },
  'claude-bridge': { shape: claudeBridgeEnvShape, aliases: CLAUDE_BRIDGE_ENV_ALIASES },
  'bard-bridge': { shape: bardBridgeEnvShape, aliases: BARD_BRIDGE_ENV_ALIASES },
};
const SERVICE_NAMES = SERVICES_MANIFEST.services.map((service) => service.name);
const BACKEND_NAMES = backendServices(SERVICES_MANIFEST).map((service) => service.name);

interface Container {
  name: string;
  image: string;
  ports: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  securityContext: {
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
  };
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  lifecycle: { preStop: { exec: { command: string[] } } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds: number;
      securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
      containers: Container[];
    };
  };
}

function render(overlay: string): KubernetesObject[] {
  const yaml = execFileSync('kubectl', ['kustomize', join(root, 'k8s', 'overlays', overlay)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return (loadAll(yaml) as KubernetesObject[]).filter((object) => object !== null);
}

function ofKind<T>(objects: KubernetesObject[], kind: string): Array<KubernetesObject & { spec: T }> {
  return objects.filter((object) => object.kind === kind) as Array<KubernetesObject & { spec: T }>;
}

describe.each(['dev', 'prod'])('k8s/overlays/%s', (overlay) => {
  const objects = render(overlay);
  const deployments = ofKind<DeploymentSpec>(objects, 'Deployment');
  const services = ofKind<{
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: string }>;
  }>(objects, 'Service');
  const configMap = objects.find((object) => object.kind === 'ConfigMap') as
    (KubernetesObject & { data: Record<string, string> }) | undefined;

  it('should render objects that all validate against the Kubernetes schemas', () => {
    expect(() =>
      new Deployment({ metadata: { name: 'broken' }, spec: { replicas: 'two' } } as never).validate(),
    ).toThrow();
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model).toBeDefined();
      expect(() => new (Model as new (value: KubernetesObject) => Validatable)(object).validate()).not.toThrow();
    }
  });

  it('should give each service of the manifest a Deployment, Service, HPA and PDB', () => {
    for (const app of SERVICE_NAMES) {
      for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
        expect(objects.some((object) => object.kind === kind && object.metadata.name === app)).toBe(true);
      }
    }
  });

  it('should wire every gateway upstream URL to a Service port that reaches a listening container', () => {
    for (const variable of backendServices(SERVICES_MANIFEST).map((service) => service.urlVariable)) {
      const url = new URL(configMap?.data[variable] ?? 'http://missing');
      const service = services.find((candidate) => candidate.metadata.name === url.hostname);
      expect(service).toBeDefined();
      const servicePort = service?.spec.ports.find((port) => port.port === Number(url.port));
      expect(servicePort).toBeDefined();
      const deployment = deployments.find((candidate) =>
        Object.entries(service?.spec.selector ?? {}).every(
          ([label, value]) => candidate.spec.template.metadata.labels[label] === value,
        ),
      );
      const container = deployment?.spec.template.spec.containers[0];
      const containerPort = container?.ports.find((port) => port.name === servicePort?.targetPort);
      expect(containerPort?.containerPort).toBe(Number(url.port));
      expect(container?.env?.find((entry) => entry.name === 'PORT')?.value).toBe(url.port);
    }
  });

  // One image serves every service (APP picks it, as in compose): an overlay retags that one image, so a new
  // service needs no overlay entry.
  it('should run every Deployment from the one openai-proxy/app image with APP naming its service', () => {
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      expect({ app: deployment.metadata.name, image: container.image.replace(/:[^:/]+$/, '') }).toEqual({
        app: deployment.metadata.name,
        image: 'openai-proxy/app',
      });
      expect(container.env?.find((entry) => entry.name === 'APP')?.value).toBe(deployment.metadata.name);
    }
  });

  it('should give every app the configuration its schema requires, from the ConfigMap and its PORT', () => {
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      expect(container.envFrom?.[0]?.configMapRef?.name).toBe(configMap?.metadata.name);
      const env = {
        ...configMap?.data,
        ...Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value ?? ''])),
      };
      expect(() => LOADERS[deployment.metadata.name as ServiceName](env)).not.toThrow();
    }
  });

  it('should probe routes the apps serve and drain streams before the kill', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      expect(container.startupProbe.httpGet.path).toBe('/healthz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.ports.map((port) => port.name)).toContain(container.readinessProbe.httpGet.port);
      const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
      const drainSeconds = Number(configMap?.data['SHUTDOWN_DRAIN_MS']) / 1000;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + drainSeconds);
    }
  });

  it('should run every container with the restricted security profile and resource limits', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it('should keep secrets out of the ConfigMap and expose only the gateway', () => {
    for (const [name, value] of Object.entries(configMap?.data ?? {})) {
      expect(name).not.toMatch(/_KEY$|SECRET|TOKEN|PASSWORD|PROXY/);
      expect(redactText(value)).toBe(value);
    }
    const ingresses = objects.filter((object) => object.kind === 'Ingress') as Array<
      KubernetesObject & {
        spec: { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string } } }> } }> };
      }
    >;
    const backends = ingresses.flatMap((ingress) =>
      ingress.spec.rules.flatMap((rule) => rule.http.paths.map((path) => path.backend.service.name)),
    );
    expect(backends).toEqual(['gateway']);
    expect(ingresses[0]?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(services.every((service) => (service.spec as unknown as { type: string }).type === 'ClusterIP')).toBe(true);
  });

  it('should trust the ingress hop at the gateway, and the gateway and ingress hops at the services', () => {
    const expected = Object.fromEntries(
      SERVICES_MANIFEST.services.map((service) => [service.name, service.role === 'edge' ? 1 : 2]),
    );
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      const env = {
        ...configMap?.data,
        ...Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value ?? ''])),
      };
      const loaded = LOADERS[deployment.metadata.name as ServiceName](env) as { platform: { trustProxy: unknown } };
      expect({ app: deployment.metadata.name, trustProxy: loaded.platform.trustProxy }).toEqual({
        app: deployment.metadata.name,
        trustProxy: expected[deployment.metadata.name],
      });
    }
  });

  it('should let the services accept traffic from the gateway only', () => {
    const policy = objects.find(
      (object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'services-from-gateway-only',
    ) as
      | (KubernetesObject & {
          spec: {
            podSelector: { matchExpressions: Array<{ values: string[] }> };
            ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }>;
          };
        })
      | undefined;
    expect(policy?.spec.podSelector.matchExpressions[0]?.values.sort()).toEqual([...BACKEND_NAMES].sort());
    expect(policy?.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }] },
    ]);
  });
});

describe('overlay differences', () => {
  it('should give prod more replicas, larger resources and pinned image tags than dev', () => {
    const dev = ofKind<DeploymentSpec>(render('dev'), 'Deployment');
    const prod = ofKind<DeploymentSpec>(render('prod'), 'Deployment');
    expect(dev.every((deployment) => deployment.spec.replicas === 1)).toBe(true);
    expect(prod.every((deployment) => deployment.spec.replicas === 3)).toBe(true);
    expect(prod[0]?.spec.template.spec.containers[0]?.resources.limits['memory']).toBe('512Mi');
    expect(dev.every((deployment) => deployment.spec.template.spec.containers[0]?.image.endsWith(':dev'))).toBe(true);
    expect(prod.every((deployment) => deployment.spec.template.spec.containers[0]?.image.endsWith(':0.1.0'))).toBe(
      true,
    );
    expect(dev[0]?.metadata.namespace).toBe('openai-proxy-dev');
    expect(prod[0]?.metadata.namespace).toBe('openai-proxy');
  });
});

describe('services manifest env lists', () => {
  // Lower-case spellings of the egress variables (`https_proxy`) are read by every app alongside the upper-case ones.
  const lowerCaseSpellings = new Set(Object.values(PROXY_ALIASES).flat());

  it.each(SERVICES_MANIFEST.services.map((service) => [service.name, service] as const))(
    'should list in the manifest exactly the variables the %s configuration schema reads',
    (name, service) => {
      const { shape, aliases } = ENV_SCHEMAS[name];
      const read = [...Object.keys(shape), ...Object.values(aliases).flat()].filter(
        (variable) => !lowerCaseSpellings.has(variable),
      );
      const listed = serviceEnvNames(SERVICES_MANIFEST, service);
      expect({
        readButNotListed: read.filter((variable) => !listed.includes(variable)).sort(),
        listedButNotRead: listed.filter((variable) => !read.includes(variable)),
      }).toEqual({ readButNotListed: [], listedButNotRead: [] });
    },
  );

  it.each(SERVICES_MANIFEST.services.map((service) => [service.name, service.port] as const))(
    'should default the %s PORT to its manifest port when PORT is unset',
    (name, port) => {
      expect((LOADERS[name]({}) as { platform: { port: number } }).platform.port).toBe(port);
    },
  );
});
