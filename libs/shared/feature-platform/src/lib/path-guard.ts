/** A path without these needs no closer look: no dot, no percent escape, no backslash. */
const SUSPECT = /[.%\\]/;
/** Slashes, and backslashes that some servers take for slashes. */
const SEPARATOR = /[/\\]/;
const ESCAPE = /%([0-9a-fA-F]{2})/g;
/** A server behind us may decode once more than we do; past this many layers the path is refused. */
const DECODE_ROUNDS = 3;

/** One layer of percent escapes decoded (as single bytes: enough to see dots and slashes); never throws. */
function decodeOnce(path: string): string {
  return path.replace(ESCAPE, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A `.` or `..` segment; also `..;x`, which some servers read as `..` with a parameter. */
function hasDotSegment(path: string): boolean {
  return path.split(SEPARATOR).some((segment) => {
    const name = segment.split(';', 1)[0];
    return name === '.' || name === '..';
  });
}

/**
 * True when a request path could step out of the base path it is relayed under, or out of the route that
 * claimed it: a `.` or `..` segment, plain or percent-encoded (`%2e%2e`, `..%2f`, `%252e%252e`), or behind a
 * backslash. Such a path is refused rather than normalised: no client of an API needs one.
 */
export function escapesBasePath(pathname: string): boolean {
  if (!SUSPECT.test(pathname)) {
    return false;
  }
  let current = pathname;
  for (let round = 0; round < DECODE_ROUNDS; round += 1) {
    if (hasDotSegment(current)) {
      return true;
    }
    const decoded = decodeOnce(current);
    if (decoded === current) {
      return false;
    }
    current = decoded;
  }
  return hasDotSegment(current) || decodeOnce(current) !== current;
}

/**
 * True when a request target carries a `#`: no request target may (RFC 9112 §3.2, a client keeps its fragment
 * to itself), and one relayed as written could reach a server that reads it otherwise.
 */
export function hasFragment(target: string): boolean {
  return target.includes('#');
}

/** The path of a request target, without its query. */
export function pathnameOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
