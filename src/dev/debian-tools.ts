/**
 * The PostgreSQL 15 client programs from Debian (pg_dump, pg_restore, psql, pgbench),
 * installed with apt-get when missing and running as root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { findTool } from '../postgres/tools';

export const DEBIAN_PG_MAJOR = 15;
const PROGRAMS = ['pg_dump', 'pg_restore', 'psql', 'pgbench'] as const;

function missing(): string[] {
  return PROGRAMS.filter((p) => !findTool(p).some((t) => t.major >= DEBIAN_PG_MAJOR));
}

export function ensurePgClientTools(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  const lacking = missing();
  if (lacking.length === 0) return;
  const packages = [`postgresql-client-${DEBIAN_PG_MAJOR}`, `postgresql-${DEBIAN_PG_MAJOR}`];
  const install = `apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `${lacking.join(', ')} ${DEBIAN_PG_MAJOR}+ not found. Install them (Debian/Ubuntu: sudo ${install}) or set PGTRANSIT_PG_BIN to a folder holding them.`,
    );
  }
  log(`installing ${packages.join(' ')} (provides ${lacking.join(', ')})...`);
  // The server package would otherwise create and start a cluster of its own.
  mkdirSync('/etc/postgresql-common', { recursive: true });
  if (!existsSync('/etc/postgresql-common/createcluster.conf'))
    writeFileSync('/etc/postgresql-common/createcluster.conf', 'create_main_cluster = false\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'inherit', 'inherit'] }).status;
  if (run(['update']) !== 0 || run(['install', '-y', '--no-install-recommends', ...packages]) !== 0) {
    throw new Error(`apt-get could not install ${packages.join(' ')}; run \`${install}\` by hand`);
  }
  const still = missing();
  if (still.length) throw new Error(`after installing ${packages.join(' ')}, still missing: ${still.join(', ')}`);
}

/** PgBouncer from Debian (the pooler tests), installed with apt-get when missing; its own service stays off. */
export function ensurePgbouncer(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const bin = '/usr/sbin/pgbouncer';
  if (existsSync(bin)) return bin;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get'))
    throw new Error('pgbouncer not found. Install it (Debian/Ubuntu: sudo apt-get install -y pgbouncer)');
  log('installing pgbouncer...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // No service of its own: policy-rc.d refuses every start while the package installs.
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const run = (args: string[]) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'inherit', 'inherit'] }).status;
    if (
      run(['install', '-y', '--no-install-recommends', 'pgbouncer']) !== 0 &&
      (run(['update']) !== 0 || run(['install', '-y', '--no-install-recommends', 'pgbouncer']) !== 0)
    )
      throw new Error('apt-get could not install pgbouncer; run `apt-get install -y pgbouncer` by hand');
  } finally {
    if (!hadPolicy) rmSync(policy, { force: true });
  }
  if (!existsSync(bin)) throw new Error(`after installing pgbouncer, ${bin} is still missing`);
  return bin;
}
