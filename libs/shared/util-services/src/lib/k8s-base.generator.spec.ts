import { kubernetesNetworkPoliciesFile } from './k8s-base.generator';
import { SERVICES_MANIFEST } from './services.manifest';
import { backendServices, edgeService } from './services.query';

const text = kubernetesNetworkPoliciesFile(SERVICES_MANIFEST);
const lines = text.split('\n');
const comments = lines.filter((line) => line.trimStart().startsWith('#')).join('\n');

describe(kubernetesNetworkPoliciesFile.name, () => {
  it('should open DNS, HTTPS and the services ports only when no overlay adds a policy', () => {
    const ports = lines
      .filter((line) => !line.trimStart().startsWith('#'))
      .map((line) => /port: (\d+)$/.exec(line)?.[1])
      .filter((port): port is string => port !== undefined)
      .map(Number);
    const services = [edgeService(SERVICES_MANIFEST), ...backendServices(SERVICES_MANIFEST)].map(({ port }) => port);
    expect(new Set(ports)).toEqual(new Set([53, 443, ...services]));
  });

  it('should tell how to allow an egress proxy port when the proxy listens on another port than 443', () => {
    expect(comments).toContain('HTTPS_PROXY');
    expect(comments).toContain('ALL_PROXY');
    expect(comments).toMatch(/kind: NetworkPolicy/);
    expect(comments).toMatch(/policyTypes: \[Egress\]/);
    expect(comments).toMatch(/port: 3128/);
  });
});
