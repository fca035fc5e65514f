/** Dispatches a check to its kind's runner, after replacing {{run}} in its strings. */
import type { Check, SimpleCheck } from '../../model/types.ts';
import { runBrowserCheck } from './browser.ts';
import { runExecCheck } from './exec.ts';
import { runFileCheck } from './file.ts';
import { runHttpCheck } from './http.ts';
import { runLogCheck } from './log.ts';
import { runOutageCheck } from './outage.ts';
import { runPersistenceCheck } from './persistence.ts';
import { runPortClosedCheck } from './port-closed.ts';
import { runProbeCheck } from './probe.ts';
import { runSelinuxCheck } from './selinux.ts';
import { runSqlCheck } from './sql.ts';
import { withRunToken, type CheckContext, type CheckOutcome } from './types.ts';

export function runSimpleCheck(raw: SimpleCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const check = withRunToken(raw, ctx.runToken);
  switch (check.kind) {
    case 'http': return runHttpCheck(check, ctx);
    case 'browser': return runBrowserCheck(check, ctx);
    case 'exec': return runExecCheck(check, ctx);
    case 'probe': return runProbeCheck(check, ctx);
    case 'sql': return runSqlCheck(check, ctx);
    case 'file': return runFileCheck(check, ctx);
    case 'port_closed': return runPortClosedCheck(check, ctx);
    case 'selinux': return runSelinuxCheck(check, ctx);
    case 'log': return runLogCheck(check, ctx);
  }
}

export function runCheck(check: Check, ctx: CheckContext): Promise<CheckOutcome> {
  switch (check.kind) {
    case 'persistence': return runPersistenceCheck(check, ctx, runSimpleCheck);
    case 'outage': return runOutageCheck(withRunToken(check, ctx.runToken), ctx, runSimpleCheck);
    default: return runSimpleCheck(check, ctx);
  }
}
