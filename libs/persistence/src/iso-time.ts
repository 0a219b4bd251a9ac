let lastDate: Date | undefined;
let lastIso = '';

/**
 * `date.toISOString()`, formatted once for the same Date object: the tasks of one submission
 * (a bulk request's thousand rows, their insert and their answers) share one creation time.
 */
export const isoOf = (date: Date): string => {
  if (date !== lastDate) {
    lastDate = date;
    lastIso = date.toISOString();
  }
  return lastIso;
};

/** An optional time as the API shows it: ISO 8601, or null. */
export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);
