/**
 * Copies of what the site offers for download, at their path inside generated/<stack>/: every
 * artifact as the specs compile now, the evidence file with the screenshots it names, the
 * minimiser's reports, and the stripped images' size reports and SBOMs.
 */
import type { APIRoute, GetStaticPaths } from 'astro';
import { siteData } from '../../../../lib/site.ts';

export const getStaticPaths = (async () => {
  const paths: { params: { stack: string; file: string }; props: { body: string | Uint8Array } }[] = [];
  for (const s of (await siteData()).stacks) {
    for (const a of s.artifacts) paths.push({ params: { stack: s.name, file: a.path }, props: { body: a.content } });
    if (s.evidenceText !== undefined) paths.push({ params: { stack: s.name, file: 'evidence/latest.json' }, props: { body: s.evidenceText } });
    for (const [rel, bytes] of s.screenshots) paths.push({ params: { stack: s.name, file: `evidence/${rel}` }, props: { body: bytes } });
    for (const svc of s.services) {
      for (const r of svc.minimize) if ('text' in r) paths.push({ params: { stack: s.name, file: r.path }, props: { body: r.text } });
      const st = svc.stripped;
      if (st && 'sizeText' in st) {
        paths.push({ params: { stack: s.name, file: st.sizePath }, props: { body: st.sizeText } });
        if (st.sbomPath && st.sbomText !== undefined) paths.push({ params: { stack: s.name, file: st.sbomPath }, props: { body: st.sbomText } });
      }
    }
  }
  return paths;
}) satisfies GetStaticPaths;

export const GET: APIRoute = ({ props }) => {
  const { body } = props as { body: string | Uint8Array };
  return new Response(typeof body === 'string' ? body : new Uint8Array(body));
};
