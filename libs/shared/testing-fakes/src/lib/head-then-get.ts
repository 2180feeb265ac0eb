import { connect } from 'node:net';

/** A response's status line and headers (names lower-cased), as they came on the wire. */
export interface RawResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** What one keep-alive connection got for `HEAD path` and then `GET path`. */
export interface HeadThenGet {
  head: RawResponseHead;
  /** What came after the HEAD response's headers before the GET's status line: a HEAD answer has no body. */
  bytesAfterHead: string;
  get: RawResponseHead & { body: string };
}

/** How long the exchange may take before the socket is destroyed. */
const EXCHANGE_WITHIN_MS = 10_000;
const HEAD_END = '\r\n\r\n';
const STATUS_LINE = 'HTTP/1.1 ';

function requestText(method: string, path: string, host: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const connection = method === 'GET' ? 'close' : 'keep-alive';
  return `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: ${connection}\r\n${lines.join('')}\r\n`;
}

function parseHead(text: string): RawResponseHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers };
}

/** Splits the transcript (bytes as latin1) of both answers into the HEAD's head, what followed it, and the GET. */
function splitTranscript(transcript: string): HeadThenGet {
  const headEnd = transcript.indexOf(HEAD_END);
  const afterHead = transcript.slice(headEnd + HEAD_END.length);
  const getStart = afterHead.indexOf(STATUS_LINE);
  const getText = getStart === -1 ? '' : afterHead.slice(getStart);
  const getHeadEnd = getText.indexOf(HEAD_END);
  return {
    head: parseHead(transcript.slice(0, headEnd)),
    bytesAfterHead: getStart === -1 ? afterHead : afterHead.slice(0, getStart),
    get: {
      ...parseHead(getText.slice(0, getHeadEnd)),
      body: Buffer.from(getText.slice(getHeadEnd + HEAD_END.length), 'latin1').toString('utf8'),
    },
  };
}

/**
 * Sends `HEAD path` on a raw keep-alive connection to `baseUrl` and, once its headers arrived, `GET path` on the
 * same connection (which the GET closes); resolves with both answers as they came on the wire, so bytes a HEAD
 * answer must not have are seen (fetch hides them). Bounded: the socket is destroyed after 10 s.
 */
export function headThenGet(baseUrl: string, path: string, headers: Record<string, string>): Promise<HeadThenGet> {
  const { hostname, port, host } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let getSent = false;
    const timer = setTimeout(
      () => socket.destroy(new Error(`HEAD then GET ${path} took over ${EXCHANGE_WITHIN_MS} ms`)),
      EXCHANGE_WITHIN_MS,
    );
    socket.on('connect', () => socket.write(requestText('HEAD', path, host, headers)));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (!getSent && Buffer.concat(chunks).includes(HEAD_END)) {
        getSent = true;
        socket.write(requestText('GET', path, host, headers));
      }
    });
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(splitTranscript(Buffer.concat(chunks).toString('latin1')));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
