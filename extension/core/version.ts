import pkg from '../../package.json';

/** The workbench version, recorded in every run's metadata. */
export const VERSION: string = pkg.version;
