import { TEAM_COMPOSE_FILE, composeFile, composeTeamFile } from './compose.generator';
import { dockerfile } from './dockerfile.generator';
import type { GeneratedFile } from './generated-notice';
import { kubernetesConfigFile, kubernetesKustomizationFile, kubernetesNetworkPoliciesFile } from './k8s-base.generator';
import { kubernetesServiceFile } from './k8s-service.generator';
import { lintScopesFile } from './lint-scopes.generator';
import type { ServicesManifest } from './services.types';

/** Every file derived from the manifest, by path from the repository root; `npm run manifest` writes them. */
export function generatedFiles(manifest: ServicesManifest): readonly GeneratedFile[] {
  return [
    { path: 'docker-compose.yml', text: composeFile(manifest) },
    { path: TEAM_COMPOSE_FILE, text: composeTeamFile(manifest) },
    { path: 'Dockerfile', text: dockerfile(manifest) },
    { path: 'k8s/base/kustomization.yaml', text: kubernetesKustomizationFile(manifest) },
    { path: 'k8s/base/config.yaml', text: kubernetesConfigFile(manifest) },
    { path: 'k8s/base/network-policies.yaml', text: kubernetesNetworkPoliciesFile(manifest) },
    ...manifest.services.map((service) => ({
      path: `k8s/base/${service.name}.yaml`,
      text: kubernetesServiceFile(service, manifest.image),
    })),
    { path: 'tools/lint/service-scopes.mjs', text: lintScopesFile(manifest) },
  ];
}
