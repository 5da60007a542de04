// A failed request in one word, for warnings that must not show its URL (which may hold a secret).

/** What went wrong in a request, without its URL. */
export function failure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  if (e?.cause?.code) return e.cause.code;
  return /^HTTP \d+$/.test(e?.message ?? '') ? e.message! : (e?.name ?? 'error');
}
