// A real dynamic import(), for Artillery's ES modules: TypeScript's CommonJS output would otherwise
// turn `import()` into `require()`, which cannot load them.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep import() in CommonJS output
export const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<any>;
