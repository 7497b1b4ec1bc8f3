import type { ContainerConfig } from '../api/types.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';

/** In-memory name and id index over committed containers; the store on disk is the truth. */
export class ContainerIndex {
  private readonly byId = new Map<string, ContainerConfig>();
  private readonly byName = new Map<string, string>();

  add(c: ContainerConfig): void {
    const other = this.byName.get(c.name);
    if (other !== undefined && other !== c.id) throw new ConflictError(`container name ${JSON.stringify(c.name)} is already in use by ${other.slice(0, 12)}`, { name: c.name });
    this.byId.set(c.id, c);
    this.byName.set(c.name, c.id);
  }

  /** Claim a name before the container exists, so two concurrent creates cannot both take it. */
  reserve(name: string, id: string): void {
    const other = this.byName.get(name);
    if (other !== undefined) throw new ConflictError(`container name ${JSON.stringify(name)} is already in use by ${other.slice(0, 12)}`, { name });
    this.byName.set(name, id);
  }

  release(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  delete(id: string): void {
    const c = this.byId.get(id);
    if (!c) return;
    this.byId.delete(id);
    this.release(c.name, id);
  }

  get(id: string): ContainerConfig | undefined {
    return this.byId.get(id);
  }

  all(): ContainerConfig[] {
    return [...this.byId.values()];
  }

  /** A name, a full id, or a unique id prefix (at least 1 hex digit). */
  resolve(ref: string): ContainerConfig {
    if (typeof ref !== 'string' || ref === '') throw new ValidationError('container reference is empty');
    const byName = this.byName.get(ref);
    if (byName !== undefined) {
      const c = this.byId.get(byName);
      if (c) return c;
    }
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = [...this.byId.keys()].filter((id) => id.startsWith(ref));
      if (matches.length === 1) return this.byId.get(matches[0]!)!;
      if (matches.length > 1) throw new ValidationError(`container id prefix ${ref} is ambiguous (${matches.length} containers)`);
    }
    throw new NotFoundError(`no such container: ${ref}`, { ref });
  }
}
