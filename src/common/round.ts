/** Rounds to one decimal, as the pack shows and keeps measured values (milliseconds, percents, pixels). */
export const round1 = (n: number): number => Math.round(n * 10) / 10;
