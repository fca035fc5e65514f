/**
 * Engine calls with a time limit: Docker 20.10 wedged here on a container whose start had failed
 * under a minimiser candidate (inspect, ps -a and rm -f of it never returned), and a benchmark
 * waited on it for ever. An engine call past its limit is an EnvironmentError (exit 2) that says so.
 */
import { describe, expect, it } from 'vitest';
import { engineCall, EnvironmentError } from '../compiler/src/verify/docker.ts';

describe('engineCall', () => {
  it('passes the answer through, and the error of a call that fails', async () => {
    expect(await engineCall('a ping', Promise.resolve('OK'), 1000)).toBe('OK');
    await expect(engineCall('a ping', Promise.reject(new Error('404 no such container')), 1000)).rejects.toThrow('404 no such container');
  });

  it('stops a call that never answers with an EnvironmentError naming the call and what to do', async () => {
    const started = Date.now();
    const never = new Promise<never>(() => {});
    const err = await engineCall('docker inspect of web\'s container', never, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^the Docker engine did not answer docker inspect of web's container within 0 s; it may be wedged .*restart it: kill \$\(cat \/run\/hardspec-dockerd\.pid\); scripts\/setup-docker\.sh/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
