/**
 * A small, strict command-line parser: `--name value`, `--name=value`, `--flag`, and `-h/--help`.
 * Unknown options and bad values are reported with a clear message (and a non-zero exit by
 * the caller), never a stack trace.
 */
export class UsageError extends Error {}

export interface OptionSpec {
  name: string;
  type: 'string' | 'int' | 'number' | 'boolean';
  default?: string | number | boolean;
  help: string;
  /** Minimum for numbers. */
  min?: number;
  choices?: readonly string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  options: OptionSpec[];
  examples?: string[];
}

export type ParsedOptions = Record<string, string | number | boolean | undefined> & { help?: boolean };

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedOptions {
  const out: ParsedOptions = {};
  for (const o of spec.options) if (o.default !== undefined) out[camel(o.name)] = o.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      out.help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}' (options start with --; see --help)`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = spec.options.find((x) => x.name === name);
    if (!o) throw new UsageError(`unknown option --${name}; valid options: ${spec.options.map((x) => `--${x.name}`).join(', ')}`);
    let raw: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    if (o.type === 'boolean') {
      out[camel(o.name)] = raw === undefined ? true : !['false', '0', 'no'].includes(raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`option --${name} needs a value`);
    }
    out[camel(o.name)] = convert(spec.name, o, raw);
  }
  return out;
}

function convert(cmd: string, o: OptionSpec, raw: string): string | number {
  if (o.type === 'string') {
    if (o.choices && !o.choices.includes(raw)) throw new UsageError(`--${o.name} must be one of ${o.choices.join(', ')}, got '${raw}'`);
    return raw;
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${o.name} expects a number, got '${raw}'`);
  if (o.type === 'int' && !Number.isInteger(v)) throw new UsageError(`--${o.name} expects an integer, got '${raw}'`);
  if (o.min !== undefined && v < o.min) throw new UsageError(`--${o.name} must be ≥ ${o.min}, got ${raw}`);
  return v;
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function helpText(prog: string, spec: CommandSpec): string {
  const lines = [`Usage: ${prog} ${spec.name} [options]`, '', spec.summary, '', 'Options:'];
  const w = Math.max(...spec.options.map((o) => o.name.length + (o.type === 'boolean' ? 0 : 8))) + 4;
  for (const o of spec.options) {
    const left = `  --${o.name}${o.type === 'boolean' ? '' : ` <${o.type === 'string' ? 'value' : o.type}>`}`;
    const def = o.default !== undefined ? ` (default: ${o.default})` : '';
    lines.push(`${left.padEnd(w + 4)}${o.help}${o.choices ? ` [${o.choices.join('|')}]` : ''}${def}`);
  }
  lines.push('  -h, --help'.padEnd(w + 4) + 'show this help');
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
