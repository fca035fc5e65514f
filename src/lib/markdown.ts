/**
 * Renders a spec's Markdown (its reasoning) to HTML for the site: GitHub-flavoured Markdown, raw
 * HTML dropped and the result sanitised, so a spec's prose can never put script or markup of its
 * own on the site. Headings are moved down to fit under the page's own headings.
 */
import type { Heading, Root } from 'mdast';
import rehypeSanitize from 'rehype-sanitize';
import rehypeStringify from 'rehype-stringify';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';

function shiftHeadings(options: { by: number }) {
  return (tree: Root) => {
    const visit = (node: { type: string; children?: unknown[] }) => {
      if (node.type === 'heading') {
        const h = node as Heading;
        h.depth = Math.min(6, h.depth + options.by) as Heading['depth'];
      }
      for (const child of node.children ?? []) visit(child as { type: string; children?: unknown[] });
    };
    visit(tree);
  };
}

const processors = new Map<number, ReturnType<typeof makeProcessor>>();
function makeProcessor(shift: number) {
  return unified().use(remarkParse).use(remarkGfm).use(shiftHeadings, { by: shift }).use(remarkRehype).use(rehypeSanitize).use(rehypeStringify);
}

/** Block Markdown → HTML; headings inside are moved down by `shift` levels. */
export function renderMarkdown(markdown: string, shift = 2): string {
  let p = processors.get(shift);
  if (!p) processors.set(shift, (p = makeProcessor(shift)));
  return String(p.processSync(markdown));
}

/** Inline Markdown (a heading's text, a one-line description) → HTML without the paragraph. */
export function renderInline(markdown: string): string {
  return renderMarkdown(markdown, 0).trim().replace(/^<p>([\s\S]*)<\/p>$/, '$1');
}
