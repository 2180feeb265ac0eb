import type { ServicesManifest } from './services.types';

/** Values that must differ between services, each with what names it in a problem. */
function uniqueValues(manifest: ServicesManifest): ReadonlyArray<[string, readonly string[]]> {
  const backends = manifest.services.flatMap((service) => (service.role === 'backend' ? [service] : []));
  return [
    ['name', manifest.services.map((service) => service.name)],
    ['port', manifest.services.map((service) => String(service.port))],
    ['port variable', manifest.services.map((service) => service.portVariable)],
    ['URL variable', backends.map((service) => service.urlVariable)],
    ['prefix', backends.flatMap((service) => service.prefixes)],
    ['provider', backends.flatMap((service) => service.providers)],
  ];
}

/** What is wrong with a manifest (a duplicate, no edge or several); empty when nothing is. */
export function manifestProblems(manifest: ServicesManifest): readonly string[] {
  const problems: string[] = [];
  for (const [label, values] of uniqueValues(manifest)) {
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value)) {
        problems.push(`${label} "${value}" is used more than once`);
      }
      seen.add(value);
    }
  }
  const edges = manifest.services.filter((service) => service.role === 'edge').length;
  if (edges !== 1) {
    problems.push(`exactly one edge service is needed, found ${edges}`);
  }
  return problems;
}
