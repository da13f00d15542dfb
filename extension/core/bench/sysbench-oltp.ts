import { run } from '../hosts/host';
import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { startDaemon } from './daemon';
import { clientAddresses, generatePassword, readSecret, writeSecret } from './server-access';
import { parseSysbench } from './sysbench';

const PORT = '3306';
const USER = 'hs_bench';
const DB = 'sbtest';
const TABLES = ['--tables=2', '--table-size=2000'];

const dataDir = (ctx: BenchContext) => `${ctx.runDir}/mariadb`;
const secretFile = (ctx: BenchContext) => `${ctx.runDir}/mariadb.secret`;

function sysbenchArgv(ctx: BenchContext, password: string, ...rest: string[]): string[] {
  return ['sysbench', 'oltp_read_write', '--db-driver=mysql', `--mysql-host=${ctx.target}`, `--mysql-port=${PORT}`,
    `--mysql-user=${USER}`, `--mysql-password=${password}`, `--mysql-db=${DB}`, ...TABLES, ...rest];
}

/**
 * A MariaDB server for this run only: a private data directory under the testbed's run folder, listening on the
 * server's testbed address, root reachable through the local socket only, and one generated user admitted from
 * the client's addresses alone, with rights on the benchmark's database and nothing else.
 */
async function startMariadb(ctx: BenchContext): Promise<StopServer> {
  const { server, signal } = ctx;
  const dir = dataDir(ctx);
  const password = generatePassword();
  const clients = await clientAddresses(ctx.client, signal);
  await run(server, ['mkdir', '-p', ctx.runDir], { timeoutMs: 10_000 });
  await server.exec(['rm', '-rf', dir], { signal, timeoutMs: 30_000 });
  await run(server, ['mariadb-install-db', '--no-defaults', '--user=mysql', `--datadir=${dir}`, '--auth-root-authentication-method=socket',
    '--skip-test-db', '--skip-name-resolve'], { signal, timeoutMs: 120_000 });
  const stopDaemon = await startDaemon(server, {
    name: 'mariadbd',
    runDir: ctx.runDir,
    port: PORT,
    foreground: true,
    argv: () => ['mariadbd', '--no-defaults', '--user=mysql', `--datadir=${dir}`, `--socket=${dir}/mysqld.sock`, `--pid-file=${dir}/mysqld.pid`,
      `--bind-address=${ctx.target}`, `--port=${PORT}`, '--skip-name-resolve'],
    readyTimeoutMs: 30_000,
    signal,
  });
  const stop = async () => {
    await stopDaemon();
    await server.exec(['rm', '-rf', dir, secretFile(ctx)], { timeoutMs: 30_000 });
  };
  try {
    // SQL on stdin: the password never shows in the process list of the server host.
    const sql = [`CREATE DATABASE ${DB};`, ...clients.flatMap((a) => [
      `CREATE USER '${USER}'@'${a}' IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON ${DB}.* TO '${USER}'@'${a}';`,
    ])].join('\n');
    await run(server, ['mariadb', '--no-defaults', `--socket=${dir}/mysqld.sock`, '-u', 'root'], { stdin: sql, signal, timeoutMs: 30_000 });
    await writeSecret(server, secretFile(ctx), password, signal);
    await run(ctx.client, sysbenchArgv(ctx, password, 'prepare'), { signal, timeoutMs: 120_000 });
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}

export const sysbenchOltp: Benchmark = {
  id: 'sysbench-oltp',
  title: 'sysbench oltp_read_write against MariaDB on the server host',
  headline: 'transactionRate',
  requires: {
    client: [['sysbench', 'sysbench']],
    // mariadb-install-db comes with mariadbd; it is not listed because the run's metadata asks every listed
    // program for --version, which mariadb-install-db takes as a request to initialise /var/lib/mysql.
    server: [['mariadbd', 'mariadb-server'], ['mariadb', 'mariadb-client-core']],
  },
  startServer: startMariadb,

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const password = await readSecret(ctx.server, secretFile(ctx), ctx.signal);
    const argv = sysbenchArgv(ctx, password, `--time=${ctx.durationS}`, '--threads=2', '--report-interval=0', '--percentile=95', 'run');
    const r = await ctx.client.exec(argv, { signal: ctx.signal, timeoutMs: (ctx.durationS + 60) * 1000 });
    if (r.cancelled) throw new Error('sysbench was cancelled');
    return parseSysbench(r.stdout + r.stderr);
  },
};
