import type { Command } from 'commander';
import type { StatsSample } from '../../api/types.js';
import type { CorralClient } from '../../client/client.js';
import type { Context } from '../context.js';
import { STATS_FIELDS } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { formatTable, humanSize, toJson } from '../output.js';
import { Option } from 'commander';

export interface StatsRequest {
  refs: string[];
  stream: boolean;
  format: FormatSpec<'table' | 'json'>;
}

export function registerStats(program: Command, dispatch: (req: StatsRequest) => Promise<void>): void {
  program
    .command('stats')
    .description('live CPU, memory, pids, block and network IO of running containers, read from the kernel (like docker stats)')
    .argument('[container...]', 'names or ids (default: every running container)')
    .option('--no-stream', 'print one sample and exit')
    .addOption(new Option('--format <format>', 'table, json, or a Go template (\'{{.Name}} {{.CPUPerc}}\', \'table {{.Name}}\\t{{.MemUsage}}\')').argParser(formatOption(['table', 'json'] as const)).default({ kind: 'table' }, 'table'))
    .action((refs: string[], o: { stream: boolean; format: FormatSpec<'table' | 'json'> }) => dispatch({ refs, stream: o.stream, format: o.format }));
}

/** One row: CPU % is usage over wall time between two samples, 100 % = one CPU (as Docker). */
export interface StatsRow {
  id: string;
  name: string;
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number | null;
  memoryPercent: number | null;
  pids: number;
  pidsLimit: number | null;
  blockRead: number;
  blockWrite: number;
  netRx: number;
  netTx: number;
  oomKills: number;
}

export function toRow(prev: StatsSample, cur: StatsSample): StatsRow {
  const dt = (Date.parse(cur.time) - Date.parse(prev.time)) * 1e6; // ns
  const du = (cur.cgroup.cpu?.usageNs ?? 0) - (prev.cgroup.cpu?.usageNs ?? 0);
  const m = cur.cgroup.memory;
  return {
    id: cur.id,
    name: cur.name,
    cpuPercent: dt > 0 ? Math.max(0, (du / dt) * 100) : 0,
    memoryUsage: m?.usageBytes ?? 0,
    memoryLimit: m?.limitBytes ?? null,
    memoryPercent: m && m.limitBytes ? (m.usageBytes / m.limitBytes) * 100 : null,
    pids: cur.cgroup.pids?.current ?? 0,
    pidsLimit: cur.cgroup.pids?.limit ?? null,
    blockRead: cur.cgroup.io?.readBytes ?? 0,
    blockWrite: cur.cgroup.io?.writeBytes ?? 0,
    netRx: cur.network.rxBytes,
    netTx: cur.network.txBytes,
    oomKills: m?.oomKills ?? 0,
  };
}

/** A row's cells as Docker's `stats` template fields. */
export function statsItem(r: StatsRow): Record<string, unknown> {
  return {
    Container: r.name,
    ID: r.id.slice(0, 12),
    Name: r.name,
    CPUPerc: `${r.cpuPercent.toFixed(2)}%`,
    MemUsage: `${humanSize(r.memoryUsage)} / ${r.memoryLimit === null ? 'unlimited' : humanSize(r.memoryLimit)}`,
    MemPerc: r.memoryPercent === null ? '--' : `${r.memoryPercent.toFixed(2)}%`,
    NetIO: `${humanSize(r.netRx)} / ${humanSize(r.netTx)}`,
    BlockIO: `${humanSize(r.blockRead)} / ${humanSize(r.blockWrite)}`,
    PIDs: r.pidsLimit === null ? String(r.pids) : `${r.pids} / ${r.pidsLimit}`,
  };
}

export function statsTable(rows: readonly StatsRow[]): string {
  const keys = ['ID', 'Name', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'];
  return formatTable(
    keys.map((k) => STATS_FIELDS.headers[k]!),
    rows.map((r) => {
      const item = statsItem(r);
      return keys.map((k) => String(item[k]));
    }),
  );
}

async function sampleAll(client: CorralClient, refs: readonly string[]): Promise<StatsSample[]> {
  const out: StatsSample[] = [];
  for (const ref of refs) out.push(await client.stats(ref));
  return out;
}

export async function stats(ctx: Context, req: StatsRequest): Promise<number> {
  const client = await ctx.client();
  const refs = req.refs.length > 0 ? req.refs : (await client.list()).map((c) => c.id);
  let prev = await sampleAll(client, refs);
  for (;;) {
    await new Promise((r) => setTimeout(r, req.stream ? 1000 : 500));
    const cur = await sampleAll(client, refs);
    const rows = cur.map((c, i) => toRow(prev[i]!, c));
    if (req.format.kind === 'json') ctx.out(req.stream ? JSON.stringify(rows) + '\n' : toJson(rows));
    else if (req.format.kind === 'template') ctx.out(renderTemplate(req.format, rows.map(statsItem), STATS_FIELDS));
    else {
      // Redraw in place like docker stats when streaming to a terminal.
      if (req.stream && ctx.io.stdout.isTTY) ctx.out('\x1b[2J\x1b[H');
      ctx.out(statsTable(rows));
    }
    if (!req.stream) return 0;
    prev = cur;
  }
}
