import type { JobView } from '@sluice/db';
import type { JobEvents } from '@sluice/queue';

/** One watcher of a job: hears each state read, and each heartbeat. */
export interface JobWatcher {
  onJob(job: JobView | undefined): void;
  onHeartbeat(): void;
}

interface Group {
  watchers: Set<JobWatcher>;
  read: () => Promise<JobView | undefined>;
  reading: boolean;
  again: boolean;
  unwatch: () => void;
  timer: NodeJS.Timeout;
}

/**
 * The watchers of each job, grouped by (tenant, job), so that however many clients follow
 * one job, each event about it costs one read of its row, not one per client.
 *
 * Design: a group exists while it has watchers. It subscribes once to the job's queue events
 * and runs one heartbeat timer; on either it reads the job (reads never overlap: what
 * arrives during one causes one more after it) and hands the row to every watcher. Only
 * watchers of the same tenant share a group, and its reads run in that tenant's scope.
 */
export class JobWatchers {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly jobEvents: JobEvents,
    private readonly heartbeatMs: number,
    private readonly onReadError: (error: unknown, jobId: string) => void,
  ) {}

  /**
   * Adds `watcher` to the job's group; `read` reads the job in `tenantId`'s scope (the first
   * watcher's is the group's). Returns the function that removes it.
   */
  watch(tenantId: string, jobId: string, read: () => Promise<JobView | undefined>, watcher: JobWatcher): () => void {
    const key = `${tenantId}/${jobId}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      const created: Group = {
        watchers: new Set(),
        read,
        reading: false,
        again: false,
        unwatch: this.jobEvents.watch(jobId, () => void this.refresh(created, jobId)),
        timer: setInterval(() => {
          for (const w of created.watchers) w.onHeartbeat();
          void this.refresh(created, jobId);
        }, this.heartbeatMs),
      };
      group = created;
      this.groups.set(key, group);
    }
    group.watchers.add(watcher);
    // An event may have come between the watcher's first read and now.
    void this.refresh(group, jobId);
    const joined = group;
    return () => {
      joined.watchers.delete(watcher);
      if (joined.watchers.size > 0) return;
      clearInterval(joined.timer);
      joined.unwatch();
      if (this.groups.get(key) === joined) this.groups.delete(key);
    };
  }

  private async refresh(group: Group, jobId: string): Promise<void> {
    if (group.reading) {
      group.again = true;
      return;
    }
    group.reading = true;
    try {
      do {
        group.again = false;
        const job = await group.read();
        for (const w of [...group.watchers]) w.onJob(job);
      } while (group.again && group.watchers.size > 0);
    } catch (error) {
      // The next event or heartbeat reads again.
      this.onReadError(error, jobId);
    } finally {
      group.reading = false;
    }
  }
}
