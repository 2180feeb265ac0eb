/** The first line of every generated file, after the file type's comment marker. */
export const GENERATED_NOTICE =
  'generated from libs/shared/util-services/src/lib/services.manifest.ts by `npm run manifest`: do not edit';

/** One file `npm run manifest` writes: its path from the repository root and its whole text. */
export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

/** Lines joined with newlines, ending with one. */
export function linesOf(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}
