/** JSON with sorted keys inside plain objects, so the bytes never depend on insertion order. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v), 2)}\n`;
}
