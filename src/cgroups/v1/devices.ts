import { join } from 'node:path';
import { type DeviceRule, ruleText, rulesRequested } from '../devices.js';
import type { AppliedSetting } from '../limits.js';
import { writeCgroupFile } from '../write.js';

/**
 * v1 devices: `a` to devices.deny drops the default "everything allowed", then one rule per
 * devices.allow write (the file takes one). Written on the container's limits cgroup before its
 * processes' child exists, which copies them at mkdir; a child can never allow more than its
 * parent, so container root cannot widen them from inside.
 */
export async function applyDevices(dir: string, rules: readonly DeviceRule[]): Promise<AppliedSetting[]> {
  const deny = join(dir, 'devices.deny');
  const allow = join(dir, 'devices.allow');
  await writeCgroupFile(deny, 'a');
  for (const r of rules) await writeCgroupFile(allow, ruleText(r));
  return [
    { limit: 'devices', requested: 'deny every device', file: deny, value: 'a' },
    { limit: 'devices', requested: rulesRequested(rules), file: allow, value: rules.map(ruleText).join('\n') },
  ];
}
