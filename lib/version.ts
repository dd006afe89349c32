/** The release version; the binary build script checks it matches package.json. */
export const VERSION = "0.1.0";
