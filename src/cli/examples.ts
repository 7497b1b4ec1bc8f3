import type { Command } from 'commander';

/** Adds an `Examples:` section to a command's `--help`, as Docker's reference pages have. */
export function withExamples(cmd: Command, examples: readonly string[]): Command {
  (cmd as Command & { [HAS]?: boolean })[HAS] = true;
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
}

const HAS = Symbol('examples');

/** Whether `withExamples` gave `cmd` its examples (the help test walks the tree with it). */
export function hasExamples(cmd: Command): boolean {
  return (cmd as Command & { [HAS]?: boolean })[HAS] === true;
}

/** Examples of the commands whose files do not add their own, by command path. */
export const EXAMPLES: Record<string, readonly string[]> = {
  run: ['corral run --rm busybox echo hello', 'corral run -d --name web -p 8080:80 --restart unless-stopped busybox httpd -f -p 80', 'corral run -it --rm busybox sh', 'corral run --rm -m 256m --cpus 0.5 -e K=V -v /srv/data:/data:ro busybox ls /data'],
  create: ['corral create --name web -p 8080:80 busybox httpd -f -p 80', 'corral start web'],
  start: ['corral start web', 'corral start web db'],
  stop: ['corral stop web', 'corral stop -t 30 web db'],
  restart: ['corral restart web', 'corral restart -t 0 web'],
  kill: ['corral kill web', 'corral kill -s HUP web'],
  rm: ['corral rm web', 'corral rm -f web db', 'corral rm $(corral ps -aq --filter status=exited)'],
  exec: ['corral exec web ps', 'corral exec -it web sh', 'corral exec -u nobody -w /tmp -e K=V web env'],
  template: ['corral template ls', 'corral template build debian --suite bookworm', 'docker save alpine:3.19 | corral template load'],
  'template ls': ['corral template ls', 'corral template ls -q', "corral template ls --format '{{.Name}} {{.Size}}'"],
  'template inspect': ['corral template inspect busybox'],
  'template rm': ['corral template rm mytemplate'],
  'template prune': ['corral template prune', 'corral template prune -f'],
  'template build': ['corral template build busybox', 'corral template build debian --name deb12 --suite bookworm --include curl,ca-certificates'],
  'template import': ['corral template import mybase rootfs.tar.gz', 'cat rootfs.tar | corral template import mybase -'],
  'template load': ['docker save alpine:3.19 | corral template load', 'corral template load -i alpine.tar --name alpine'],
  load: ['docker save alpine:3.19 | corral load', 'corral load -i oci-layout/ --name myimage'],
  'snapshot create': ['corral snapshot create web before-upgrade', 'corral snapshot create web'],
  'snapshot ls': ['corral snapshot ls web', 'corral snapshot ls web --format json'],
  'snapshot restore': ['corral snapshot restore web before-upgrade'],
  'snapshot rm': ['corral snapshot rm web before-upgrade'],
  commit: ['corral commit web web-snapshot', 'corral run --rm web-snapshot ls /'],
  export: ['corral export web > web.tar', 'corral export -o web.tar web'],
  version: ['corral version'],
  volume: ['corral volume create data', 'corral volume ls', 'corral run -d -v data:/var/lib/app busybox sleep 1d'],
  'volume ls': ['corral volume ls', 'corral volume ls -q', 'corral volume ls --format json'],
  'volume inspect': ['corral volume inspect data'],
  'volume rm': ['corral volume rm data', 'corral volume rm $(corral volume ls -q)'],
  'volume prune': ['corral volume prune', 'corral volume prune -f'],
  doctor: ['corral doctor', 'corral doctor --format json'],
  update: ['corral update -m 512m --cpus 1 web', 'corral update --pids-limit 200 web db'],
  stats: ['corral stats', 'corral stats --no-stream web', "corral stats --no-stream --format 'table {{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}'"],
  attach: ['corral attach web', 'corral attach --no-stdin web'],
  console: ['corral console vps1', 'corral run -d --boot --name vps1 debian && corral console vps1'],
  wait: ['corral wait web', 'corral wait web db'],
  validate: ['corral validate -f corral.yaml', 'cat corral.yaml | corral validate -f -'],
  explain: ['corral explain -f corral.yaml'],
  plan: ['corral plan -f corral.yaml', 'corral plan -f corral.yaml --prune'],
  apply: ['corral apply -f corral.yaml', 'corral apply -f corral.yaml --prune --wait-timeout 5m'],
  delete: ['corral delete -f corral.yaml'],
  drift: ['corral drift -f corral.yaml'],
  network: ['corral network create backend', 'corral run -d --network backend --name db busybox sleep 1d', 'corral network ls'],
  'network create': ['corral network create backend', 'corral network create --subnet 10.90.0.0/16 backend'],
  'network ls': ['corral network ls', 'corral network ls -q', "corral network ls --format '{{.Name}} {{.Subnet}}'"],
  'network inspect': ['corral network inspect bridge', 'corral network inspect backend frontend'],
  'network rm': ['corral network rm backend'],
  container: ['corral container prune', 'corral container prune -f'],
  system: ['corral system df', 'corral system df -v'],
};

/** Gives each command listed in EXAMPLES its section, unless its file already added one. */
export function addExamples(program: Command): void {
  const walk = (cmd: Command, path: string[]): void => {
    for (const sub of cmd.commands as Command[]) {
      const key = [...path, sub.name()].join(' ');
      const list = EXAMPLES[key];
      if (list && !hasExamples(sub)) withExamples(sub, list);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
}
