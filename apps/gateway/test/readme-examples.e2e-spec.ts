import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePorts, portEnvironment, waitUntilReady } from './support/launcher-process';

const root = join(__dirname, '..', '..', '..');
const READMES = ['README.md', 'README.zh-CN.md'];
const README_GATEWAY = 'http://localhost:3000';
const CURL_MAX_TIME_SECONDS = 10;

/**
 * What the README asks the user to have in their shell, with values `npm run demo` accepts (its fake upstreams
 * take any key of the right shape). Anything else a curl example uses must be set by the README itself.
 */
const USER_VARIABLES: Readonly<Record<string, string>> = {
  OPENAI_API_KEY: 'sk-demo-readme',
  DEEPSEEK_API_KEY: 'sk-demo-readme-deepseek',
  ANTHROPIC_API_KEY: 'sk-ant-demo-readme',
  CLAUDE_SESSION_KEY: 'sk-ant-sid01-demo-readme',
  GEMINI_API_KEY: 'AIzaDemoReadme',
  PSID: 'g.a000demoReadme',
  PSIDTS: 'sidts-demoReadme',
  GATEWAY_ADMIN_TOKEN: 'readme-admin-token-0123456789',
};

/**
 * The demo runs in team mode's `optional` setting, so that the pass-through examples (provider keys) and the
 * team examples (gateway keys, the admin API) both run against it; the gateway holds the user's demo keys.
 */
function teamEnvironment(folder: string): Record<string, string> {
  return {
    GATEWAY_KEYS: 'optional',
    GATEWAY_ADMIN_TOKEN: USER_VARIABLES['GATEWAY_ADMIN_TOKEN'] ?? '',
    OPENAI_API_KEY: USER_VARIABLES['OPENAI_API_KEY'] ?? '',
    ANTHROPIC_API_KEY: USER_VARIABLES['ANTHROPIC_API_KEY'] ?? '',
    GEMINI_API_KEY: USER_VARIABLES['GEMINI_API_KEY'] ?? '',
    DATABASE_URL: `sqlite:${join(folder, 'gateway.db')}`,
  };
}

/** Files an example uploads, created in the folder the examples run in. */
const EXAMPLE_FILES: Readonly<Record<string, string>> = {
  'train.jsonl': '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n',
};

interface Example {
  readme: string;
  line: number;
  /** The command as written (continuation lines kept). */
  command: string;
  /** Shell assignments (`ORG=…`) the README made before this command. */
  assignments: string[];
}

/** The logical lines (`\` continuations joined) of every ```bash block, with their first line number. */
function bashLines(markdown: string): Array<{ line: number; text: string }> {
  const lines = markdown.split('\n');
  const logical: Array<{ line: number; text: string }> = [];
  let inBash = false;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.startsWith('```')) {
      inBash = !inBash && /^```(bash|sh|shell)\s*$/.test(line);
      continue;
    }
    if (!inBash) {
      continue;
    }
    const start = index;
    let text = line;
    while (text.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      text = `${text}\n${lines[index] ?? ''}`;
    }
    logical.push({ line: start + 1, text });
  }
  return logical;
}

function readExamples(readme: string): Example[] {
  const examples: Example[] = [];
  const assignments: string[] = [];
  for (const { line, text } of bashLines(readFileSync(join(root, readme), 'utf8'))) {
    const trimmed = text.trim();
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(trimmed)) {
      assignments.push(trimmed);
    } else if (/^curl\s/.test(trimmed)) {
      examples.push({ readme, line, command: trimmed, assignments: [...assignments] });
    }
  }
  return examples;
}

/** A shell line without its comment: a `#` after a space, outside quotes, starts one. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const character = line[index];
    if (quote !== undefined) {
      quote = character === quote ? undefined : quote;
    } else if (character === "'" || character === '"') {
      quote = character;
    } else if (character === '#' && (index === 0 || /\s/.test(line[index - 1] ?? ''))) {
      return line.slice(0, index);
    }
  }
  return line;
}

/** The command without comments and extra spaces: the two READMEs differ only in comments. */
function comparable(example: Example): string {
  return example.command.split('\n').map(withoutComment).join(' ').replace(/\s+/g, ' ').trim();
}

/** Variables the command uses that neither the user (USER_VARIABLES) nor the README sets. */
function unsetVariables(example: Example): string[] {
  const assigned = new Set(example.assignments.map((assignment) => assignment.split('=')[0]));
  const used = [...example.command.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
  return [...new Set(used)].filter((name) => !(name in USER_VARIABLES) && !assigned.has(name));
}

interface Outcome {
  exitCode: number | null;
  status: number;
  /** curl's own output and the start of the body, for a failure message. */
  output: string;
  body: string;
}

/** An OpenAI error envelope: `{"error": {"message": …}}` as the whole JSON body. */
function isErrorEnvelope(body: string): boolean {
  try {
    const value = JSON.parse(body) as { error?: { message?: unknown } } | null;
    return typeof value?.error === 'object' && value.error !== null && typeof value.error.message === 'string';
  } catch {
    return false;
  }
}

/** Why an example's answer is no success, or undefined when it is one: 2xx/3xx, and no error in a 2xx body. */
function failureOf(outcome: Outcome): string | undefined {
  if (outcome.exitCode !== 0 || !(outcome.status >= 200 && outcome.status < 400)) {
    return `exit ${outcome.exitCode}`;
  }
  if (outcome.status < 300 && outcome.body.includes('data: {"error"')) {
    return 'an error frame in the stream';
  }
  if (outcome.status < 300 && isErrorEnvelope(outcome.body)) {
    return 'an error envelope';
  }
  return undefined;
}

/** Runs one example with bash, as written but for the gateway's address; curl gets a time limit and -w. */
function runExample(example: Example, gatewayUrl: string, folder: string): Promise<Outcome> {
  const bodyFile = join(folder, 'body.out');
  const script = [
    `curl() { command curl --max-time ${CURL_MAX_TIME_SECONDS} --silent --show-error --output "$BODY_FILE" --write-out '%{http_code}' "$@"; }`,
    // The README's npm commands run in the repository (the examples run in a folder of their own, for uploads).
    `npm() { (cd "$REPO_ROOT" && command npm "$@"); }`,
    ...example.assignments,
    example.command.replaceAll(README_GATEWAY, gatewayUrl),
  ].join('\n');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], {
      cwd: folder,
      env: { ...process.env, ...USER_VARIABLES, BODY_FILE: bodyFile, REPO_ROOT: root, GATEWAY_URL: gatewayUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (exitCode) => {
      let body = '';
      try {
        body = readFileSync(bodyFile, 'utf8');
      } catch {
        body = '';
      }
      rmSync(bodyFile, { force: true });
      const start = body === '' ? '(no body)' : body.slice(0, 300);
      resolve({ exitCode, status: Number(output.trim().slice(-3)), output: `${output.trim()} ${start}`, body });
    });
  });
}

describe('README curl examples', () => {
  const examples = READMES.map(readExamples);

  it('should give both READMEs the same curl commands', () => {
    const [english, chinese] = examples.map((list) => list.map(comparable));
    expect(english?.length).toBeGreaterThan(20);
    expect(chinese).toEqual(english);
  });

  it('should set every variable an example uses, or name it as one the user sets', () => {
    const unset = examples
      .flat()
      .map((example) => ({ at: `${example.readme}:${example.line}`, unset: unsetVariables(example) }))
      .filter((entry) => entry.unset.length > 0);
    expect(unset).toEqual([]);
  });

  // Regression: two README examples used $CONV, which the README never set.
  it('should answer every curl example of both READMEs with 2xx or 3xx, and no error in a 2xx body, against npm run demo', async () => {
    const ports = await freePorts();
    const { gateway } = ports;
    const folder = mkdtempSync(join(tmpdir(), 'readme-examples-'));
    for (const [name, content] of Object.entries(EXAMPLE_FILES)) {
      writeFileSync(join(folder, name), content);
    }
    const launcher = spawn(process.execPath, [join(root, 'tools/scripts/launch.mjs'), '--demo'], {
      cwd: root,
      env: {
        ...process.env,
        ...portEnvironment(ports),
        ...teamEnvironment(folder),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      stdio: 'ignore',
    });
    const exit = exited(launcher);
    try {
      await waitUntilReady(`http://127.0.0.1:${gateway}/readyz`, 20_000);
      const failures: string[] = [];
      for (const example of examples.flat()) {
        const outcome = await runExample(example, `http://127.0.0.1:${gateway}`, folder);
        const failure = failureOf(outcome);
        if (failure !== undefined) {
          failures.push(`${example.readme}:${example.line} ${failure}, ${outcome.output}\n  ${example.command}`);
        }
      }
      expect(failures).toEqual([]);
    } finally {
      launcher.kill('SIGTERM');
      await exit;
      rmSync(folder, { recursive: true, force: true });
    }
  }, 90_000);
});
