import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { redactText } from '@openai-proxy/util-auth-headers';
import { PROXY_ALIASES, commonEnvShape, parseEnvironment } from '@openai-proxy/util-config';
import {
  SERVICES_MANIFEST,
  type ServiceName,
  backendServices,
  deployedEnv,
  edgeService,
  serviceEnvNames,
} from '@openai-proxy/util-services';
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
  'apps/v1/StatefulSet': StatefulSet,
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
const SERVICE_NAMES: readonly string[] = SERVICES_MANIFEST.services.map((service) => service.name);
const BACKEND_NAMES = backendServices(SERVICES_MANIFEST).map((service) => service.name);
const EDGE_NAME = edgeService(SERVICES_MANIFEST).name;
const NAME_LABEL = 'app.kubernetes.io/name';
/** The overlays a user applies: dev, prod, and dev with team mode's state in the cluster. */
const OVERLAYS = ['dev', 'prod', 'dev-team'];

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
  volumeMounts?: Array<{ name: string; mountPath: string }>;
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
      volumes?: Array<{ name: string; emptyDir?: { sizeLimit?: string } }>;
    };
  };
}

const QUANTITY_UNITS: Readonly<Record<string, number>> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A Kubernetes quantity in binary units (`1280Mi`) in bytes; NaN for any other spelling. */
function quantityBytes(quantity: string | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity ?? '');
  return match === null ? NaN : Number(match[1]) * (QUANTITY_UNITS[match[2] ?? ''] ?? NaN);
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

type SecretObject = KubernetesObject & { stringData: Record<string, string> };
type ServiceObject = KubernetesObject & {
  spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> };
};

function secretNamed(objects: KubernetesObject[], name: string): SecretObject | undefined {
  return objects.find((object) => object.kind === 'Secret' && object.metadata.name === name) as
    SecretObject | undefined;
}

/** The Deployments of the manifest's apps (an overlay may add others, e.g. Redis). */
function appDeployments(objects: KubernetesObject[]): Array<KubernetesObject & { spec: DeploymentSpec }> {
  return ofKind<DeploymentSpec>(objects, 'Deployment').filter((deployment) =>
    SERVICE_NAMES.includes(deployment.metadata.name),
  );
}

/** What an app container sees: its envFrom sources in order (a later one wins), then its own env. */
function containerEnvironment(objects: KubernetesObject[], container: Container): Record<string, string> {
  const sources = (container.envFrom ?? []).map((source) => {
    if (source.configMapRef !== undefined) {
      const configMap = objects.find(
        (object) => object.kind === 'ConfigMap' && object.metadata.name === source.configMapRef?.name,
      ) as (KubernetesObject & { data: Record<string, string> }) | undefined;
      return configMap?.data ?? {};
    }
    return secretNamed(objects, source.secretRef?.name ?? '')?.stringData ?? {};
  });
  const own = Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value ?? '']));
  return Object.assign({}, ...sources, own) as Record<string, string>;
}

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  const objects = render(overlay);
  const deployments = appDeployments(objects);
  const services = ofKind<ServiceObject['spec']>(objects, 'Service');
  const configMap = objects.find((object) => object.kind === 'ConfigMap') as
    (KubernetesObject & { data: Record<string, string> }) | undefined;
  const secret = secretNamed(objects, 'openai-proxy-secrets');

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

  it('should scale every app, the gateway included, with an HPA on its own Deployment', () => {
    const autoscalers = ofKind<{
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
    }>(objects, 'HorizontalPodAutoscaler');
    const scaled = autoscalers.map((autoscaler) => ({
      name: autoscaler.metadata.name,
      target: `${autoscaler.spec.scaleTargetRef.kind}/${autoscaler.spec.scaleTargetRef.name}`,
      grows: autoscaler.spec.maxReplicas > autoscaler.spec.minReplicas,
    }));
    expect(scaled.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      [...SERVICE_NAMES].sort().map((name) => ({ name, target: `Deployment/${name}`, grows: true })),
    );
    expect(SERVICE_NAMES).toContain(EDGE_NAME);
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

  it('should give every app the configuration its schema requires, from the ConfigMap, the Secret and its PORT', () => {
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      expect(container.envFrom?.map((source) => source.configMapRef?.name ?? source.secretRef?.name)).toEqual([
        configMap?.metadata.name,
        secret?.metadata.name,
      ]);
      const env = containerEnvironment(objects, container);
      expect(() => LOADERS[deployment.metadata.name as ServiceName](env)).not.toThrow();
    }
  });

  it("should hold every secret the manifest deploys (the gateway's team-mode ones too) in the Secret", () => {
    const names = deployedEnv(SERVICES_MANIFEST, true).map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        'GATEWAY_ADMIN_TOKEN',
        'OPENAI_API_KEY',
        'ANTHROPIC_API_KEY',
        'GEMINI_API_KEY',
        'DATABASE_URL',
        'REDIS_URL',
      ]),
    );
    expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual([...names].sort());
    expect(names.filter((name) => name in (configMap?.data ?? {}))).toEqual([]);
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

  it("should bound each app's temp folder above what the app itself may hold there (MAX_SPOOL_BYTES)", () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const mount = container?.volumeMounts?.find((entry) => entry.mountPath === '/tmp');
      const volume = pod.volumes?.find((entry) => entry.name === mount?.name);
      const spoolBytes = parseEnvironment(commonEnvShape, containerEnvironment(objects, container)).MAX_SPOOL_BYTES;
      // Above the app's own limit, so that it refuses an upload (503, 413) before the kubelet evicts the pod.
      expect(quantityBytes(volume?.emptyDir?.sizeLimit)).toBeGreaterThan(spoolBytes);
    }
  });

  it("should give every emptyDir of every workload a size limit, so no pod can fill its node's disk", () => {
    const workloads = objects.filter(
      (object) => object.kind === 'Deployment' || object.kind === 'StatefulSet',
    ) as Array<KubernetesObject & { spec: DeploymentSpec }>;
    const emptyDirs = workloads.flatMap((workload) =>
      (workload.spec.template.spec.volumes ?? [])
        .filter((volume) => volume.emptyDir !== undefined)
        .map((volume) => ({
          at: `${workload.metadata.name}/${volume.name}`,
          bytes: quantityBytes(volume.emptyDir?.sizeLimit),
        })),
    );
    expect(emptyDirs.length).toBeGreaterThanOrEqual(deployments.length);
    expect(emptyDirs.filter((entry) => !(entry.bytes > 0))).toEqual([]);
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
      const env = containerEnvironment(objects, deployment.spec.template.spec.containers[0]);
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

/** A label selector as NetworkPolicies and workloads write it. */
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string };
}

interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: Array<{ port?: number | string; protocol?: string }>;
}

interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every((expression) => {
    const value = labels[expression.key];
    switch (expression.operator) {
      case 'In':
        return value !== undefined && (expression.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(expression.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
    }
  });
  return byLabel && byExpression;
}

/** A pod as NetworkPolicies see it: its labels, and whether it runs in another namespace. */
interface PolicyPod {
  labels: Record<string, string>;
  elsewhere?: boolean;
}

/**
 * Whether a rule's peers may include `pod`, erring towards yes: an IP block or a namespace selector may cover any
 * pod; a bare pod selector covers pods of the policy's own namespace only.
 */
function peerMatches(peers: PolicyPeer[] | undefined, pod: PolicyPod): boolean {
  if (peers === undefined || peers.length === 0) {
    return true;
  }
  return peers.some((peer) => {
    if (peer.ipBlock !== undefined) {
      return true;
    }
    const byPod = peer.podSelector === undefined || selects(peer.podSelector, pod.labels);
    return peer.namespaceSelector === undefined ? pod.elsewhere !== true && byPod : byPod;
  });
}

function portMatches(ports: PolicyRule['ports'], port: number): boolean {
  return (
    ports === undefined || ports.length === 0 || ports.some((entry) => entry.port === undefined || entry.port === port)
  );
}

/**
 * Whether the namespace's NetworkPolicies let pod `from` open a TCP connection to `port` of pod `to` (of this
 * namespace): both ends must allow it, an end no policy of that direction selects allows everything, and a pod in
 * another namespace is bound by its own namespace's policies only.
 */
function connectionAllowed(policies: NetworkPolicySpec[], from: PolicyPod, to: PolicyPod, port: number): boolean {
  const side = (direction: 'Ingress' | 'Egress', pod: PolicyPod, peer: PolicyPod): boolean => {
    const selecting = policies.filter(
      (policy) => policy.policyTypes.includes(direction) && selects(policy.podSelector, pod.labels),
    );
    return (
      selecting.length === 0 ||
      selecting.some((policy) =>
        ((direction === 'Ingress' ? policy.ingress : policy.egress) ?? []).some(
          (rule) => peerMatches(direction === 'Ingress' ? rule.from : rule.to, peer) && portMatches(rule.ports, port),
        ),
      )
    );
  };
  return (from.elsewhere === true || side('Egress', from, to)) && side('Ingress', to, from);
}

interface StateContainer {
  name: string;
  image: string;
  args?: string[];
  ports: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
  securityContext: Container['securityContext'];
  livenessProbe?: { exec?: { command: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources: Container['resources'];
}

interface StateWorkloadSpec {
  replicas: number;
  serviceName?: string;
  selector: { matchLabels: Record<string, string> };
  volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: { accessModes: string[] } }>;
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } };
      containers: StateContainer[];
      volumes?: Array<{ name: string }>;
    };
  };
}

describe('k8s/components/team-state, through k8s/overlays/dev-team', () => {
  const objects = render('dev-team');
  const dev = render('dev');
  const [postgres] = ofKind<StateWorkloadSpec>(objects, 'StatefulSet');
  const redis = ofKind<StateWorkloadSpec>(objects, 'Deployment').find((object) => object.metadata.name === 'redis');
  const workloads = { postgres, redis };
  const services = ofKind<ServiceObject['spec']>(objects, 'Service');
  const gateway = appDeployments(objects).find((deployment) => deployment.metadata.name === EDGE_NAME);
  const gatewayContainer = gateway?.spec.template.spec.containers[0];
  const policies = ofKind<NetworkPolicySpec>(objects, 'NetworkPolicy').map((policy) => policy.spec);

  /** The Service named by a URL's host, the pods it selects, and their container port behind the URL's port. */
  function reached(url: URL): { workload?: string; containerPort?: number; labels?: Record<string, string> } {
    const service = services.find((candidate) => candidate.metadata.name === url.hostname);
    const servicePort = service?.spec.ports.find((port) => port.port === Number(url.port));
    const [name, workload] =
      Object.entries(workloads).find(
        ([, candidate]) =>
          candidate !== undefined &&
          service !== undefined &&
          selects({ matchLabels: service.spec.selector }, candidate.spec.template.metadata.labels),
      ) ?? [];
    const port = workload?.spec.template.spec.containers[0]?.ports.find(
      (entry) => entry.name === servicePort?.targetPort,
    );
    return { workload: name, containerPort: port?.containerPort, labels: workload?.spec.template.metadata.labels };
  }

  it('should run PostgreSQL as one StatefulSet replica on a claimed volume, with its credentials from a Secret', () => {
    expect(postgres?.metadata.name).toBe('postgres');
    expect(postgres?.spec.replicas).toBe(1);
    const container = postgres?.spec.template.spec.containers[0];
    const claim = postgres?.spec.volumeClaimTemplates?.[0];
    const dataMount = container?.volumeMounts?.find((mount) => mount.name === claim?.metadata.name);
    expect(dataMount?.mountPath).toBe('/var/lib/postgresql/data');
    // A fresh volume's root may hold lost+found, which initdb refuses: the data lives one folder below.
    const pgdata = container?.env?.find((entry) => entry.name === 'PGDATA')?.value ?? '';
    expect(pgdata.startsWith(`${dataMount?.mountPath}/`)).toBe(true);
    const credentials = secretNamed(objects, container?.envFrom?.[0]?.secretRef?.name ?? '');
    expect(Object.keys(credentials?.stringData ?? {}).sort()).toEqual([
      'POSTGRES_DB',
      'POSTGRES_PASSWORD',
      'POSTGRES_USER',
    ]);
    const governing = services.find((service) => service.metadata.name === postgres?.spec.serviceName);
    expect((governing?.spec as { clusterIP?: string } | undefined)?.clusterIP).toBe('None');
  });

  it('should run Redis as one Deployment replica that keeps nothing on disk', () => {
    expect(redis?.spec.replicas).toBe(1);
    const container = redis?.spec.template.spec.containers[0];
    expect(container?.args).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
    expect(redis?.spec.template.spec.volumes).toBeUndefined();
  });

  it('should pin both images, probe both, and run both non-root with the restricted profile and limits', () => {
    expect([postgres, redis].map((workload) => workload?.spec.template.spec.containers[0]?.image)).toEqual([
      'postgres:16-alpine',
      'redis:7-alpine',
    ]);
    for (const workload of [postgres, redis]) {
      const pod = workload?.spec.template.spec;
      const container = pod?.containers[0];
      expect(container?.readinessProbe?.exec?.command.join(' ')).toMatch(
        /pg_isready -h 127\.0\.0\.1|redis-cli -h 127\.0\.0\.1 ping/,
      );
      expect(container?.livenessProbe?.exec?.command).toEqual(container?.readinessProbe?.exec?.command);
      expect(pod?.securityContext.runAsNonRoot).toBe(true);
      expect(pod?.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod?.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(container?.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(Object.keys(container?.resources.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it("should give the gateway DATABASE_URL and REDIS_URL from the Secret, reaching PostgreSQL's and Redis's ports", () => {
    const secretName = gatewayContainer?.envFrom?.find((source) => source.secretRef !== undefined)?.secretRef?.name;
    const stringData = secretNamed(objects, secretName ?? '')?.stringData ?? {};
    const database = new URL(stringData['DATABASE_URL'] || 'http://missing');
    const cache = new URL(stringData['REDIS_URL'] || 'http://missing');
    expect([database.protocol, cache.protocol]).toEqual(['postgres:', 'redis:']);
    expect(reached(database)).toMatchObject({ workload: 'postgres', containerPort: 5432 });
    expect(reached(cache)).toMatchObject({ workload: 'redis', containerPort: 6379 });
    const credentials = secretNamed(objects, 'team-state-postgres')?.stringData;
    expect({ user: database.username, password: database.password, database: database.pathname.slice(1) }).toEqual({
      user: credentials?.['POSTGRES_USER'],
      password: credentials?.['POSTGRES_PASSWORD'],
      database: credentials?.['POSTGRES_DB'],
    });
    const loaded = loadGatewayConfig(containerEnvironment(objects, gatewayContainer as Container));
    expect({ databaseUrl: loaded.team.databaseUrl, redisUrl: loaded.team.redisUrl }).toEqual({
      databaseUrl: database.href,
      redisUrl: cache.href.replace(/\/$/, ''),
    });
    // Switching team mode on stays the operator's choice.
    expect(loaded.team.mode).toBe(deployedEnv(SERVICES_MANIFEST, false).find(([name]) => name === 'GATEWAY_KEYS')?.[1]);
  });

  it('should let the gateway reach PostgreSQL and Redis, and no other pod of this namespace or another', () => {
    const targets = {
      postgres: reached(new URL('postgres://postgres:5432')),
      redis: reached(new URL('redis://redis:6379')),
    };
    const pods: Record<string, PolicyPod> = {
      ...Object.fromEntries(
        appDeployments(objects).map((deployment) => [
          deployment.metadata.name,
          { labels: deployment.spec.template.metadata.labels },
        ]),
      ),
      postgres: { labels: targets.postgres.labels ?? {} },
      redis: { labels: targets.redis.labels ?? {} },
      'a debug pod': { labels: { [NAME_LABEL]: 'debug-shell' } },
      // Another namespace's pod: its namespace's policies may let it out; this one's ingress must stop it.
      'a gateway elsewhere': { labels: { [NAME_LABEL]: EDGE_NAME }, elsewhere: true },
    };
    const allowed = Object.entries(pods).flatMap(([name, pod]) =>
      Object.entries(targets)
        .filter(([, target]) =>
          connectionAllowed(policies, pod, { labels: target.labels ?? {} }, target.containerPort ?? 0),
        )
        .map(([target]) => `${name} -> ${target}`),
    );
    expect(allowed).toEqual([`${EDGE_NAME} -> postgres`, `${EDGE_NAME} -> redis`]);
    // What the base allows stays: the gateway still reaches its services.
    for (const backend of backendServices(SERVICES_MANIFEST)) {
      const [gatewayPod, backendPod] = [pods[EDGE_NAME], pods[backend.name]];
      expect(
        gatewayPod !== undefined &&
          backendPod !== undefined &&
          connectionAllowed(policies, gatewayPod, backendPod, backend.port),
      ).toBe(true);
    }
  });

  it('should be the dev overlay plus the team-state objects, the Secret holding their URLs', () => {
    const key = (object: KubernetesObject): string => `${object.kind}/${object.metadata.name}`;
    const added = objects.filter((object) => !dev.some((candidate) => key(candidate) === key(object))).map(key);
    expect(added.sort()).toEqual(
      [
        'Secret/team-state-postgres',
        'Service/postgres',
        'StatefulSet/postgres',
        'Service/redis',
        'Deployment/redis',
        'NetworkPolicy/team-state-from-gateway-only',
        'NetworkPolicy/gateway-to-team-state',
      ].sort(),
    );
    const changed = dev
      .filter(
        (object) =>
          JSON.stringify(object) !== JSON.stringify(objects.find((candidate) => key(candidate) === key(object))),
      )
      .map(key);
    expect(changed).toEqual(['Secret/openai-proxy-secrets']);
    expect(
      objects.every(
        (object) => object.metadata.namespace === undefined || object.metadata.namespace === 'openai-proxy-dev',
      ),
    ).toBe(true);
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
