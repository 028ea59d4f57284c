/** `tensorgrad info`: the version, the backends, threads and GPU status. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import type { CommandSpec } from '../args.js';
import { defineCommand, PACKAGE_ROOT } from '../util.js';
import { backendInfo, getDefaultDevice, listBackends } from '../../backends/index.js';

export const infoSpec: CommandSpec = { name: 'info', summary: 'Show the backends, threads and GPU status.', options: [] };

export async function runInfo(): Promise<number> {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  console.log(`tensorgrad ${pkg.version} on Node ${process.version} (${os.platform()} ${os.arch()})`);
  console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism?.() ?? os.cpus().length} cores`);
  console.log(`backends: ${listBackends().join(', ')} (default '${getDefaultDevice()}')`);
  for (const b of ['cpu', 'gpu']) {
    const info = backendInfo(b);
    console.log(`  ${b}: ${info.available ? 'available' : 'not available'} — ${info.description}`);
  }
  return 0;
}

export const infoCommand = defineCommand(infoSpec, runInfo);
