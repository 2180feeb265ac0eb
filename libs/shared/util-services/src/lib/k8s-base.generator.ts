import { GENERATED_NOTICE, linesOf } from './generated-notice';
import { backendServices, clusterServiceUrl, deployedEnv, edgeService } from './services.query';
import type { ServicesManifest } from './services.types';

const YAML_KEYWORDS = /^(true|false|yes|no|on|off|null)$/i;

/** A YAML string as the base writes it: URLs and words plain; numbers, keywords, `*` and empty strings quoted. */
function yamlValue(value: string): string {
  return /^[A-Za-z][\w.:/-]*$/.test(value) && !YAML_KEYWORDS.test(value) ? value : JSON.stringify(value);
}

/** k8s/base/config.yaml: the ConfigMap every service reads (the gateway's service URLs too), and the Secret. */
export function kubernetesConfigFile(manifest: ServicesManifest): string {
  const urls = backendServices(manifest).map((service) => [service.urlVariable, clusterServiceUrl(service)]);
  const data = [...urls, ...deployedEnv(manifest, false)];
  return linesOf([
    `# ${GENERATED_NOTICE}`,
    "# Configuration every service reads (the variables in the README's configuration table). No secret here: in",
    "# pass-through mode provider keys travel with each request; the Secret below holds the gateway's team-mode secrets.",
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: openai-proxy-config',
    'data:',
    ...data.map(([name, value]) => `  ${name}: ${yamlValue(value ?? '')}`),
    '---',
    '# Example only: never commit real values; an empty value counts as unset. Team mode (GATEWAY_KEYS optional or',
    '# required, in the ConfigMap): the provider keys the gateway attaches, its admin token, and DATABASE_URL',
    '# (postgres://…) and REDIS_URL, which more than one gateway replica needs (unset: SQLite in each pod, limits in',
    '# each process); k8s/overlays/dev-team runs both in the cluster. Egress proxy credentials belong here too.',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: openai-proxy-secrets',
    'type: Opaque',
    'stringData:',
    ...deployedEnv(manifest, true).map(([name, value]) => `  ${name}: ${yamlValue(value)}`),
  ]);
}

/**
 * How to let the pods reach an egress proxy on another port than 443: the base opens no proxy port (which one,
 * and where, is the deployment's), and policies add up, so an overlay adds one more.
 */
const EGRESS_PROXY_HINT: readonly string[] = [
  '# It opens no egress proxy port: with HTTPS_PROXY or ALL_PROXY naming a proxy on another port than 443 (3128,',
  '# 1080, 7890), every upstream call times out. Egress policies add up: allow the proxy with one more, in an overlay:',
  '#   apiVersion: networking.k8s.io/v1',
  '#   kind: NetworkPolicy',
  '#   metadata:',
  '#     name: egress-to-proxy',
  '#   spec:',
  '#     podSelector: {}',
  '#     policyTypes: [Egress]',
  '#     egress:',
  '#       - to: # the proxy: an address outside the cluster, or its namespace and pods inside it',
  '#           - ipBlock: { cidr: 10.0.0.7/32 }',
  '#           # - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: proxy } }',
  '#           #   podSelector: { matchLabels: { app: squid } }',
  '#         ports:',
  '#           - port: 3128',
  '#             protocol: TCP',
];

/** k8s/base/network-policies.yaml: backends take traffic from the edge only; egress to DNS, HTTPS, backends. */
export function kubernetesNetworkPoliciesFile(manifest: ServicesManifest): string {
  const backends = backendServices(manifest);
  const edge = edgeService(manifest);
  const names = `[${backends.map((service) => service.name).join(', ')}]`;
  return linesOf([
    `# ${GENERATED_NOTICE}`,
    `# Services accept traffic from the ${edge.name} only; the ${edge.name} from anywhere (the ingress controller).`,
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    `  name: services-from-${edge.name}-only`,
    'spec:',
    '  podSelector:',
    '    matchExpressions:',
    '      - key: app.kubernetes.io/name',
    '        operator: In',
    `        values: ${names}`,
    '  policyTypes: [Ingress]',
    '  ingress:',
    '    - from:',
    '        - podSelector:',
    '            matchLabels:',
    `              app.kubernetes.io/name: ${edge.name}`,
    '---',
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    `  name: ${edge.name}-ingress`,
    'spec:',
    '  podSelector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: ${edge.name}`,
    '  policyTypes: [Ingress]',
    '  ingress:',
    '    - ports:',
    `        - port: ${edge.port}`,
    '---',
    `# Egress: DNS, HTTPS to the providers, and the ${edge.name} to its services.`,
    ...EGRESS_PROXY_HINT,
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    '  name: egress-dns-https-services',
    'spec:',
    '  podSelector: {}',
    '  policyTypes: [Egress]',
    '  egress:',
    '    - ports:',
    '        - port: 53',
    '          protocol: UDP',
    '        - port: 53',
    '          protocol: TCP',
    '    - ports:',
    '        - port: 443',
    '          protocol: TCP',
    '    - to:',
    '        - podSelector:',
    '            matchExpressions:',
    '              - key: app.kubernetes.io/name',
    '                operator: In',
    `                values: ${names}`,
    '      ports:',
    ...backends.map((service) => `        - port: ${service.port}`),
  ]);
}

/** k8s/base/kustomization.yaml: the namespace, the configuration, one file per service, ingress, policies. */
export function kubernetesKustomizationFile(manifest: ServicesManifest): string {
  const edge = edgeService(manifest);
  const serviceFiles = [edge, ...backendServices(manifest)].map((service) => `  - ${service.name}.yaml`);
  return linesOf([
    `# ${GENERATED_NOTICE}`,
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: openai-proxy',
    'labels:',
    '  - pairs:',
    '      app.kubernetes.io/part-of: openai-proxy',
    '    includeSelectors: false',
    'resources:',
    '  - namespace.yaml',
    '  - config.yaml',
    ...serviceFiles,
    '  - ingress.yaml',
    '  - network-policies.yaml',
  ]);
}
