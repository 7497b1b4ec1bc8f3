import { describe, expect, it } from 'vitest';
import { explainContainer, explainManifest, formatExplanation, parseManifest } from '../../../src/manifest/index.js';

const one = (body: string) => parseManifest(`containers:\n  web:\n    template: busybox\n${body}`, 'm.yaml');

describe('explain: each value and what it becomes in the kernel', () => {
  it('cpu, memory, swap and pids on v2 and v1', () => {
    const text = formatExplanation(explainManifest(one('    limits: {cpu: 500m, memory: 256Mi, pids: 100}\n')));
    expect(text.split('\n')).toEqual([
      'web:',
      '  cpu 500m -> cpu.max "50000 100000" (v1: cpu.cfs_quota_us 50000 / cpu.cfs_period_us 100000)',
      '  memory 256Mi -> memory.max 268435456 (v1: memory.limit_in_bytes 268435456)',
      '  swap (default: twice memory) -> memory.swap.max 268435456 (v1: memory.memsw.limit_in_bytes 536870912)',
      '  pids 100 -> pids.max 100 (v1: pids.max 100)',
    ]);
  });

  it('warns about unit traps', () => {
    const text = formatExplanation(explainManifest(one('    limits: {memory: 256M, cpu: 200}\n')));
    expect(text.split('\n')).toEqual([
      'web:',
      '  cpu 200 -> cpu.max "20000000 100000" (v1: cpu.cfs_quota_us 20000000 / cpu.cfs_period_us 100000)',
      '    warning: 200 is 200 CPUs; did you mean 200m (0.2 CPU)?',
      '  memory 256M -> memory.max 256000000 (v1: memory.limit_in_bytes 256000000)',
      '    warning: 256M is 256,000,000 bytes (244.14 MiB), not 256 MiB; did you mean 256Mi?',
      '  swap (default: twice memory) -> memory.swap.max 256000000 (v1: memory.memsw.limit_in_bytes 512000000)',
      '  pids (default 4096) -> pids.max 4096 (v1: pids.max 4096)',
    ]);
  });

  it('everything else, with device numbers when the caller can look them up', () => {
    const spec = one(
      '    oomScoreAdj: -100\n    limits:\n      memory: 1Gi\n      memoryReservation: 512Mi\n      swap: unlimited\n      pids: unlimited\n      cpuWeight: 50\n      cpuset: {cpus: 0-1, mems: 0}\n      io:\n        weight: 500\n        devices: [{path: /dev/vda, readBps: 10Mi, writeIops: 100}]\n',
    );
    const e = explainContainer(spec.containers[0]!, { deviceNumber: (p) => (p === '/dev/vda' ? '254:0' : undefined) });
    expect(formatExplanation([e]).split('\n')).toEqual([
      'web:',
      '  cpuWeight 50 -> cpu.weight 50 (v1: cpu.shares 1287)',
      '  cpuset.cpus 0-1 -> cpuset.cpus 0-1 (v1: cpuset.cpus 0-1)',
      '  cpuset.mems 0 -> cpuset.mems 0 (v1: cpuset.mems 0)',
      '  memory 1Gi -> memory.max 1073741824 (v1: memory.limit_in_bytes 1073741824)',
      '  memoryReservation 512Mi -> memory.low 536870912 (v1: memory.soft_limit_in_bytes 536870912)',
      '  swap unlimited -> memory.swap.max max (v1: memory.memsw.limit_in_bytes -1)',
      '  pids unlimited -> pids.max max (v1: pids.max max)',
      '  io.weight 500 -> io.bfq.weight 500 with the BFQ scheduler / io.weight 4950 otherwise (v1: blkio.weight 500)',
      '  io.devices[0].readBps 10Mi -> io.max "254:0 rbps=10485760" (v1: blkio.throttle.read_bps_device "254:0 10485760")',
      '  io.devices[0].writeIops 100 -> io.max "254:0 wiops=100" (v1: blkio.throttle.write_iops_device "254:0 100")',
      '  oomScoreAdj -100 -> /proc/PID/oom_score_adj -100 (v1: /proc/PID/oom_score_adj -100)',
    ]);
    expect(e.items.find((i) => i.field === 'limits.memory')).toMatchObject({ written: '1Gi', meaning: '1073741824 bytes (1 GiB)', pos: { line: 6, col: 15 } });
    const placeholder = explainContainer(spec.containers[0]!).items.find((i) => i.field.endsWith('readBps'))!;
    expect(placeholder.v2).toEqual([{ file: 'io.max', value: '<MAJ:MIN of /dev/vda> rbps=10485760' }]);
  });

  it('a container without limits still shows the default pids limit', () => {
    expect(explainContainer(one('').containers[0]!).items.map((i) => [i.field, i.written, i.v2[0]!.value])).toEqual([['limits.pids', '(default 4096)', '4096']]);
  });
});
