/**
 * Whether a URL bypasses the egress proxy under a `NO_PROXY` list (comma or space separated host names,
 * `.suffix` or `suffix` for a domain and its subdomains, optional `:port`, `*` for everything).
 */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined || noProxy.trim() === '') {
    return false;
  }
  const hostname = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter((entry) => entry.length > 0)
    .some((entry) => {
      if (entry === '*') {
        return true;
      }
      const [rawHost = '', entryPort] = entry.toLowerCase().split(/:(?=\d+$)/);
      if (entryPort !== undefined && entryPort !== port) {
        return false;
      }
      const suffix = rawHost.replace(/^\*?\./, '');
      return hostname === suffix || hostname.endsWith(`.${suffix}`);
    });
}
