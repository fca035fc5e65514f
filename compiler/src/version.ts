/** The compiler version recorded in manifest.json and evidence. Bump with package.json. */
export const COMPILER_VERSION = '0.1.0';
