// The SBOM of a stripped image (images/<service>.spdx.json): an SPDX 2.3 document that names the
// image, the Debian packages it keeps files of (with purls) and every file with its checksums, and
// is byte-identical for the same image, so it can be committed and diffed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { debPurl, type SpdxInput, spdxDocument, validateSpdxShape } from '../compiler/src/strip/spdx.ts';

const hash = (algorithm: string, s: string) => createHash(algorithm).update(s).digest('hex');
const file = (path: string, reason: string, pkg?: string) => ({
  path,
  sha256: hash('sha256', path),
  sha1: hash('sha1', path),
  size: path.length,
  reason,
  ...(pkg ? { package: pkg } : {}),
});

function input(): SpdxInput {
  return {
    name: 'demo/web:1-stripped',
    created: '2026-11-29T10:11:12.123456789Z', // as Docker reports image times
    toolVersion: '0.1.0',
    packages: [
      { name: 'nginx', version: '1.22.1-9+deb12u1', arch: 'amd64', files: ['/usr/sbin/nginx', '/usr/sbin/nginx-link'] },
      { name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', files: ['/usr/lib/x86_64-linux-gnu/libc.so.6'] },
      { name: 'attr', version: '1:2.5.1-4', arch: 'amd64', files: [] },
    ],
    files: [
      file('/usr/sbin/nginx', 'package nginx'),
      file('/usr/lib/x86_64-linux-gnu/libc.so.6', 'needed by /usr/sbin/nginx', 'libc6'),
      file('/etc/nginx/nginx.conf', 'listed in strip.files'),
      file('/etc/ssl/certs/ca_certs.pem', 'listed in strip.files'),
    ],
  };
}

describe('spdxDocument', () => {
  it('has the SPDX 2.3 shape and passes validateSpdxShape', () => {
    const doc = spdxDocument(input());
    expect(validateSpdxShape(doc)).toEqual([]);
    expect(doc).toMatchObject({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: 'demo/web:1-stripped',
      creationInfo: { created: '2026-11-29T10:11:12Z', creators: ['Tool: hardspec-0.1.0'] },
    });
    expect(doc.documentNamespace).toMatch(/^https:\/\/hardspec\.invalid\/spdx\/demo-web-1-stripped-[0-9a-f]{64}$/);
    expect(doc.packages.map((p) => p.SPDXID)).toEqual([
      'SPDXRef-Image',
      'SPDXRef-Package-attr-amd64-1-2.5.1-4',
      'SPDXRef-Package-libc6-amd64-2.36-9-deb12u4',
      'SPDXRef-Package-nginx-amd64-1.22.1-9-deb12u1',
    ]);
    expect(doc.files.map((f) => f.fileName)).toEqual(['./etc/nginx/nginx.conf', './etc/ssl/certs/ca_certs.pem', './usr/lib/x86_64-linux-gnu/libc.so.6', './usr/sbin/nginx']);
    const nginx = doc.files.find((f) => f.fileName === './usr/sbin/nginx')!;
    expect(nginx.SPDXID).toBe('SPDXRef-File-usr-sbin-nginx');
    expect(nginx.checksums).toEqual([
      { algorithm: 'SHA1', checksumValue: hash('sha1', '/usr/sbin/nginx') },
      { algorithm: 'SHA256', checksumValue: hash('sha256', '/usr/sbin/nginx') },
    ]);
    expect(nginx.comment).toBe('kept: package nginx (15 bytes)');
  });

  it('relates document → image → packages → files, and the image to files no package owns', () => {
    const doc = spdxDocument(input());
    const rel = doc.relationships.map((r) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`);
    expect(rel).toEqual([
      'SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image',
      'SPDXRef-Image CONTAINS SPDXRef-Package-attr-amd64-1-2.5.1-4',
      'SPDXRef-Image CONTAINS SPDXRef-Package-libc6-amd64-2.36-9-deb12u4',
      'SPDXRef-Image CONTAINS SPDXRef-Package-nginx-amd64-1.22.1-9-deb12u1',
      'SPDXRef-Package-libc6-amd64-2.36-9-deb12u4 CONTAINS SPDXRef-File-usr-lib-x86-64-linux-gnu-libc.so.6',
      'SPDXRef-Package-nginx-amd64-1.22.1-9-deb12u1 CONTAINS SPDXRef-File-usr-sbin-nginx',
      'SPDXRef-Image CONTAINS SPDXRef-File-etc-nginx-nginx.conf',
      'SPDXRef-Image CONTAINS SPDXRef-File-etc-ssl-certs-ca-certs.pem',
    ]);
    // A package with no file listed says so; one with files carries their verification code (SPDX 2.3, 7.9).
    const attr = doc.packages.find((p) => p.name === 'attr')!;
    expect(attr.filesAnalyzed).toBe(false);
    expect(attr.packageVerificationCode).toBeUndefined();
    const libc = doc.packages.find((p) => p.name === 'libc6')!;
    expect(libc.packageVerificationCode?.packageVerificationCodeValue).toBe(hash('sha1', hash('sha1', '/usr/lib/x86_64-linux-gnu/libc.so.6')));
  });

  it('is the same document for the same content, whatever the input order', () => {
    const a = JSON.stringify(spdxDocument(input()));
    const shuffled = input();
    const b = JSON.stringify(spdxDocument({ ...shuffled, packages: [...shuffled.packages].reverse(), files: [...shuffled.files].reverse() }));
    expect(b).toBe(a);
    expect(JSON.stringify(spdxDocument(input()))).toBe(a);
  });

  it('changes the namespace when the content or the seed changes, not when only the time does', () => {
    const ns = (i: SpdxInput) => spdxDocument(i).documentNamespace;
    const base = input();
    expect(ns({ ...base, created: '2030-01-01T00:00:00Z' })).toBe(ns(base));
    expect(ns({ ...base, namespaceSeed: 'run 2' })).not.toBe(ns(base));
    expect(ns({ ...base, files: base.files.slice(1) })).not.toBe(ns(base));
  });

  it('keeps SPDXIDs unique when sanitising makes names collide', () => {
    const doc = spdxDocument({ ...input(), files: [file('/etc/a_b', 'x'), file('/etc/a-b', 'x'), file('/etc/a+b', 'x')], packages: [] });
    const ids = doc.files.map((f) => f.SPDXID);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toBe('SPDXRef-File-etc-a-b'); // '/etc/a+b' sorts first and keeps the plain name
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
    expect(validateSpdxShape(doc)).toEqual([]);
  });

  it('lists a file under every package that owns it (Multi-Arch: same), and skips owned paths that are not files', () => {
    const doc = spdxDocument({
      ...input(),
      packages: [
        { name: 'libc6', version: '2.36', arch: 'amd64', files: ['/usr/share/doc/libc6/copyright', '/lib64'] },
        { name: 'libc6', version: '2.36', arch: 'i386', files: ['/usr/share/doc/libc6/copyright'] },
      ],
      files: [file('/usr/share/doc/libc6/copyright', 'package libc6')],
    });
    expect(doc.relationships.filter((r) => r.relatedSpdxElement.startsWith('SPDXRef-File')).map((r) => r.spdxElementId)).toEqual([
      'SPDXRef-Package-libc6-amd64-2.36',
      'SPDXRef-Package-libc6-i386-2.36',
    ]);
  });

  it('refuses input it cannot describe truthfully', () => {
    expect(() => spdxDocument({ ...input(), files: [file('/a', 'x', 'missing')] })).toThrow(/not in the package list/);
    expect(() => spdxDocument({ ...input(), files: [{ ...file('/a', 'x'), sha1: 'XYZ' }] })).toThrow(/sha1 40/);
    expect(() => spdxDocument({ ...input(), files: [file('/a', 'x'), file('/a', 'y')] })).toThrow(/twice/);
    expect(() => spdxDocument({ ...input(), created: 'yesterday' })).toThrow(/not an ISO 8601 time/);
    const twoArch = [
      { name: 'libc6', version: '1', arch: 'amd64', files: [] },
      { name: 'libc6', version: '1', arch: 'i386', files: [] },
    ];
    expect(() => spdxDocument({ ...input(), packages: twoArch, files: [file('/a', 'x', 'libc6')] })).toThrow(/write name:arch/);
    expect(() => spdxDocument({ ...input(), packages: twoArch, files: [file('/a', 'x', 'libc6:i386')] })).not.toThrow();
  });

  it('writes UTC whole seconds whatever zone and precision come in', () => {
    expect(spdxDocument({ ...input(), created: '2026-11-29T12:11:12+02:00' }).creationInfo.created).toBe('2026-11-29T10:11:12Z');
    expect(spdxDocument({ ...input(), created: '2026-11-29T10:11:12Z' }).creationInfo.created).toBe('2026-11-29T10:11:12Z');
  });
});

describe('debPurl', () => {
  it('follows the purl spec: ":" kept, "+" and other reserved characters percent-encoded, name lowercased', () => {
    expect(debPurl({ name: 'curl', version: '7.50.3-1', arch: 'i386' })).toBe('pkg:deb/debian/curl@7.50.3-1?arch=i386');
    // The example of the purl spec's deb type definition.
    expect(debPurl({ name: 'attr', version: '1:2.4.47-2+b1', arch: 'amd64' })).toBe('pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64');
    expect(debPurl({ name: 'libstdc++6', version: '12.2.0-14~bpo', arch: 'amd64' })).toBe('pkg:deb/debian/libstdc%2B%2B6@12.2.0-14~bpo?arch=amd64');
    expect(debPurl({ name: 'Foo', version: '1 2/3', arch: 'all' }, 'Ubuntu', 'bookworm')).toBe('pkg:deb/ubuntu/foo@1%202%2F3?arch=all&distro=bookworm');
    expect(debPurl({ name: 'x', version: 'ü' })).toBe('pkg:deb/debian/x@%C3%BC');
  });

  it('is what the document puts in each package external reference', () => {
    const doc = spdxDocument(input());
    const nginx = doc.packages.find((p) => p.name === 'nginx')!;
    expect(nginx.externalRefs).toEqual([
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/nginx@1.22.1-9%2Bdeb12u1?arch=amd64' },
    ]);
    expect(doc.packages[0]!.externalRefs).toBeUndefined(); // the image itself has no purl
  });
});

describe('validateSpdxShape', () => {
  it('finds dangling relationships, duplicate or malformed IDs and missing fields', () => {
    const doc = spdxDocument(input());
    const broken = structuredClone(doc) as unknown as Record<string, any>;
    broken.relationships.push({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-Nowhere' });
    broken.files[1].SPDXID = broken.files[0].SPDXID;
    broken.packages[1].SPDXID = 'SPDXRef-has space';
    broken.files[2].checksums = [];
    delete broken.documentNamespace;
    broken.creationInfo.created = '2026-11-29T10:11:12.123Z';
    const problems = validateSpdxShape(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/"SPDXRef-Nowhere" is not an element/),
        expect.stringMatching(/files\[1\]: SPDXID .* is not unique/),
        expect.stringMatching(/packages\[1\]: SPDXID "SPDXRef-has space" is malformed/),
        expect.stringMatching(/files\[2\]: no SHA1 checksum/),
        expect.stringMatching(/documentNamespace/),
        expect.stringMatching(/created/),
      ]),
    );
    expect(validateSpdxShape(null)).toEqual(['document is not an object']);
  });

  it('catches a package that contains files although its files were not analysed', () => {
    const doc = spdxDocument(input()) as unknown as Record<string, any>;
    doc.packages.find((p: { name: string }) => p.name === 'nginx').filesAnalyzed = false;
    expect(validateSpdxShape(doc).join('\n')).toMatch(/filesAnalyzed false but contains SPDXRef-File-usr-sbin-nginx/);
  });
});
