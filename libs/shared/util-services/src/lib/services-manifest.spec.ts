import { load, loadAll } from 'js-yaml';
import { generatedFiles } from './generated-files';
import { gatewayServiceRoutes } from './gateway-routes';
import { manifestProblems } from './manifest-problems';
import { SERVICES_MANIFEST } from './services.manifest';
import { gatewayUrlDefaults, healthcheckPort, launcherPorts, launcherServiceUrls, startOrder } from './services.query';
import type { BackendServiceDefinition, ServicesManifest } from './services.types';

/** A fifth service, listed after the gateway on purpose: start order must still put the gateway last. */
const MISTRAL: BackendServiceDefinition = {
  name: 'mistral-bridge',
  role: 'backend',
  port: 3004,
  portVariable: 'MISTRAL_BRIDGE_PORT',
  urlVariable: 'MISTRAL_BRIDGE_URL',
  lintScope: 'mistral',
  prefixes: ['mistral'],
  providers: ['mistral'],
  summary: 'Mistral',
  env: [{ name: 'MISTRAL_API_BASE', secret: false, deployed: 'https://api.mistral.ai' }],
  scaling: { replicas: 2, minReplicas: 2, maxReplicas: 6, cpuUtilization: 60, minAvailable: 1 },
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
};
const WITH_FIFTH: ServicesManifest = { ...SERVICES_MANIFEST, services: [...SERVICES_MANIFEST.services, MISTRAL] };

interface KubernetesObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

function fileText(path: string): string {
  const file = generatedFiles(WITH_FIFTH).find((candidate) => candidate.path === path);
  if (file === undefined) {
    throw new Error(`${path} is not generated`);
  }
  return file.text;
}

const objectsOf = (path: string): KubernetesObject[] => loadAll(fileText(path)) as KubernetesObject[];

describe('SERVICES_MANIFEST', () => {
  it('should have no duplicate name, port, variable, prefix or provider and exactly one edge', () => {
    expect(manifestProblems(SERVICES_MANIFEST)).toEqual([]);
    expect(manifestProblems({ ...WITH_FIFTH, services: [...WITH_FIFTH.services, { ...MISTRAL, name: 'x' }] })).toEqual(
      expect.arrayContaining([
        'port "3004" is used more than once',
        'URL variable "MISTRAL_BRIDGE_URL" is used more than once',
        'prefix "mistral" is used more than once',
      ]),
    );
  });

  it('should keep the launcher, gateway and healthcheck defaults of the four services when nothing is set', () => {
    expect(startOrder(SERVICES_MANIFEST)).toEqual(['openai-relay', 'claude-bridge', 'bard-bridge', 'gateway']);
    expect(Object.fromEntries(gatewayUrlDefaults(SERVICES_MANIFEST))).toEqual({
      OPENAI_RELAY_URL: 'http://127.0.0.1:3001',
      CLAUDE_BRIDGE_URL: 'http://127.0.0.1:3002',
      BARD_BRIDGE_URL: 'http://127.0.0.1:3003',
    });
    expect(healthcheckPort(SERVICES_MANIFEST, {})).toBe(3000);
    expect(healthcheckPort(SERVICES_MANIFEST, { APP: 'bard-bridge' })).toBe(3003);
    expect(healthcheckPort(SERVICES_MANIFEST, { APP: 'bard-bridge', PORT: '4100' })).toBe(4100);
    expect(healthcheckPort(SERVICES_MANIFEST, { APP: 'all', GATEWAY_PORT: '4200', PORT: '9' })).toBe(4200);
  });
});

describe('adding a service to the manifest', () => {
  it('should start the new service before the gateway on its launcher port and point the gateway at it', () => {
    expect(startOrder(WITH_FIFTH)).toEqual([
      'openai-relay',
      'claude-bridge',
      'bard-bridge',
      'mistral-bridge',
      'gateway',
    ]);
    const ports = launcherPorts(WITH_FIFTH, { MISTRAL_BRIDGE_PORT: '4004' });
    expect(ports.get('mistral-bridge')).toBe(4004);
    expect(launcherServiceUrls(WITH_FIFTH, ports)['MISTRAL_BRIDGE_URL']).toBe('http://127.0.0.1:4004');
  });

  it('should give the gateway a route, a URL variable default and a healthcheck port for it', () => {
    const urls = { 'openai-relay': 'a', 'claude-bridge': 'b', 'bard-bridge': 'c', 'mistral-bridge': 'http://m:1' };
    expect(gatewayServiceRoutes(WITH_FIFTH, urls)).toContainEqual({
      name: 'mistral-bridge',
      prefixes: ['mistral'],
      providers: ['mistral'],
      url: 'http://m:1',
    });
    expect(gatewayUrlDefaults(WITH_FIFTH).get('MISTRAL_BRIDGE_URL')).toBe('http://127.0.0.1:3004');
    expect(healthcheckPort(WITH_FIFTH, { APP: 'mistral-bridge' })).toBe(3004);
  });

  it('should add a compose service the gateway waits for and reaches by name', () => {
    const compose = load(fileText('docker-compose.yml')) as {
      services: Record<string, { environment: Record<string, string>; depends_on?: Record<string, unknown> }>;
    };
    expect(compose.services['mistral-bridge']?.environment).toEqual({ APP: 'mistral-bridge', PORT: '3004' });
    expect(compose.services['gateway']?.environment['MISTRAL_BRIDGE_URL']).toBe('http://mistral-bridge:3004');
    expect(compose.services['gateway']?.depends_on?.['mistral-bridge']).toEqual({ condition: 'service_healthy' });
  });

  it('should add a Kubernetes Deployment, Service, HPA and PDB listed in the kustomization', () => {
    const objects = objectsOf('k8s/base/mistral-bridge.yaml');
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      'Deployment/mistral-bridge',
      'Service/mistral-bridge',
      'HorizontalPodAutoscaler/mistral-bridge',
      'PodDisruptionBudget/mistral-bridge',
    ]);
    expect(objects[2]?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(objects[3]?.spec).toMatchObject({ minAvailable: 1 });
    const kustomization = load(fileText('k8s/base/kustomization.yaml')) as { resources: string[] };
    expect(kustomization.resources).toContain('mistral-bridge.yaml');
  });

  it('should let the gateway reach the new service through the network policies and the ConfigMap', () => {
    const policies = fileText('k8s/base/network-policies.yaml');
    expect(policies).toContain('values: [openai-relay, claude-bridge, bard-bridge, mistral-bridge]');
    expect(policies).toContain('        - port: 3004');
    const [configMap] = objectsOf('k8s/base/config.yaml');
    expect(configMap?.data).toMatchObject({
      MISTRAL_BRIDGE_URL: 'http://mistral-bridge:3004',
      MISTRAL_API_BASE: 'https://api.mistral.ai',
    });
  });

  it('should fence its lint scope and expose its port in the image', () => {
    expect(fileText('tools/lint/service-scopes.mjs')).toContain(
      "export const SERVICE_SCOPES = ['openai', 'claude', 'google', 'gateway', 'mistral'];",
    );
    expect(fileText('Dockerfile')).toContain('EXPOSE 3000 3001 3002 3003 3004');
  });
});
