// Number formats shared by the progress line and the report.
export const fmtInt = (x: number | null | undefined): string =>
  x == null ? '–' : Math.round(x).toLocaleString('en-US');
export const fmtK = (x: number | null | undefined): string => (x == null ? '–' : `${(x / 1000).toFixed(1)} k`);
export const fmtMs = (x: number | null | undefined): string => (x == null ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(0));
export const fmtPct = (x: number | null | undefined): string => (x == null ? '–' : `${Math.round(x * 100)} %`);
