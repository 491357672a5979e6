/**
 * The declared mapping from our interaction fields to a source's column names.
 *
 * Each field is either named explicitly (option `columns`) or found among a
 * short list of usual names, in order (so `userId,movieId,rating,timestamp`
 * of MovieLens 20M and our own `user_id,item_id,reward,timestamp` both work
 * without configuration). A required field that is neither named nor found
 * is an error that lists the source's columns.
 */

export const INTERACTION_FIELDS = ['user_id', 'item_id', 'reward', 'timestamp', 'session_id'] as const;
export type InteractionField = (typeof INTERACTION_FIELDS)[number];

/** Usual source names per field, tried in order when `columns` does not name one. */
export const DEFAULT_CANDIDATES: Record<InteractionField, readonly string[]> = {
  user_id: ['user_id', 'userId', 'UserID', 'userid', 'user'],
  item_id: ['item_id', 'itemId', 'movieId', 'MovieID', 'movie_id', 'movieid', 'item'],
  reward: ['reward', 'rating', 'Rating'],
  timestamp: ['timestamp', 'Timestamp', 'ts', 'time'],
  session_id: ['session_id', 'sessionId', 'session'],
};

/** Field names MovieLens `::` files (and headerless numeric files) are read with. */
export const MOVIELENS_FIELD_NAMES = ['userId', 'movieId', 'rating', 'timestamp'] as const;

/** Field → source column name; session_id absent when the source has none. */
export interface ResolvedMapping {
  user_id: string;
  item_id: string;
  /** Absent when `default_reward` supplies the reward. */
  reward?: string;
  timestamp: string;
  session_id?: string;
  /** Output column name → source column name (parsed as float64). */
  extras: Record<string, string>;
}

export interface MappingRequest {
  /** Explicit names from the `columns` option. */
  columns: Partial<Record<InteractionField, string>>;
  /** Output name → source name, from `extra_columns`. */
  extras: Record<string, string>;
  /** True when `default_reward` is set: the reward column becomes optional. */
  rewardOptional: boolean;
}

export interface MappingProblem {
  field: string;
  column: string;
  message: string;
}

/**
 * Resolve the mapping against the columns a source actually has. Returns the
 * mapping, or the first problem (a missing required column).
 */
export function resolveMapping(available: readonly string[], req: MappingRequest): ResolvedMapping | MappingProblem {
  const has = new Set(available);
  const list = available.join(', ');
  const pick = (f: InteractionField): string | undefined => {
    const explicit = req.columns[f];
    if (explicit !== undefined) return explicit;
    return DEFAULT_CANDIDATES[f].find((c) => has.has(c));
  };
  const out: Partial<ResolvedMapping> = { extras: {} };
  for (const f of INTERACTION_FIELDS) {
    const name = pick(f);
    const optional = f === 'session_id' || (f === 'reward' && req.rewardOptional);
    if (name === undefined) {
      if (optional) continue;
      return {
        field: f,
        column: DEFAULT_CANDIDATES[f][0]!,
        message: `no column for ${f} (looked for ${DEFAULT_CANDIDATES[f].map((c) => `"${c}"`).join(', ')}; the source has: ${list}); name it with columns.${f}`,
      };
    }
    if (!has.has(name)) {
      if (optional && req.columns[f] === undefined) continue;
      return { field: f, column: name, message: `mapped column "${name}" (for ${f}) is missing; the source has: ${list}` };
    }
    (out as Record<string, string>)[f] = name;
  }
  for (const [outName, src] of Object.entries(req.extras)) {
    if (!has.has(src))
      return { field: outName, column: src, message: `mapped column "${src}" (for extra column ${outName}) is missing; the source has: ${list}` };
    out.extras![outName] = src;
  }
  return out as ResolvedMapping;
}

export function isMappingProblem(m: ResolvedMapping | MappingProblem): m is MappingProblem {
  return (m as MappingProblem).message !== undefined;
}
