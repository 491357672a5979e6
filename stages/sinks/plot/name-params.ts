/**
 * The naming convention for sweeps: parameters are written after an `@` in a
 * method (or run) name as comma-separated `key=value` pairs:
 *
 *   exp_rsft@lambda=0.5        base "exp_rsft", lambda = 0.5
 *   drpo@noise=0.4,beta=1      base "drpo", noise = 0.4, beta = 1
 *   recsim@noise=0.2           (a run name) noise = 0.2 for every method of the run
 *
 * A name without `@` has no parameters. Spaces around keys and values are
 * ignored; a pair without `=` is an error.
 */

export interface NameParams {
  base: string;
  params: Map<string, string>;
}

export function parseNameParams(name: string): NameParams {
  const at = name.indexOf('@');
  if (at < 0) return { base: name, params: new Map() };
  const params = new Map<string, string>();
  for (const part of name.slice(at + 1).split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`name "${name}": parameter "${part.trim()}" is not of the form key=value`);
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return { base: name.slice(0, at), params };
}

/** The name again, without the parameter `drop` ("exp_rsft@lambda=0.5,k=3" minus lambda → "exp_rsft@k=3"). */
export function nameWithout(p: NameParams, drop: string): string {
  const rest = [...p.params].filter(([k]) => k !== drop);
  return rest.length === 0 ? p.base : `${p.base}@${rest.map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** A parameter as a number: undefined when absent, an error when not numeric. */
export function numericParam(p: NameParams, key: string, name: string): number | undefined {
  const raw = p.params.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v)) throw new Error(`name "${name}": parameter ${key}=${raw} is not a number`);
  return v;
}
