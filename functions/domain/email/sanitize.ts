import sanitizeHtml from 'sanitize-html';

// CSS values are matched whole, token by token, so nothing that loads a resource (`url(`) or runs code
// (`expression(`) can ride along; only `rgb()`/`rgba()` is allowed as a function.
const LENGTH = String.raw`(?:-?(?:\d+|\d*\.\d+)(?:px|em|rem|pt|%)?|auto)`;
const COLOR = String.raw`(?:#[0-9a-f]{3,8}|rgba?\(\s*[\d.%\s,]+\)|[a-z]{3,30})`;
const lengths = (max: number) => new RegExp(String.raw`^${LENGTH}(?:\s+${LENGTH}){0,${max - 1}}$`, 'i');
const oneOf = (...words: string[]) => new RegExp(`^(?:${words.join('|')})$`, 'i');
const color = new RegExp(`^${COLOR}$`, 'i');
const border = new RegExp(String.raw`^(?:(?:${LENGTH}|thin|medium|thick|none|solid|dashed|dotted|double|${COLOR})\s*){1,3}$`, 'i');

const SAFE_STYLES: Record<string, RegExp[]> = {
  color: [color],
  'background-color': [color],
  'text-align': [oneOf('left', 'right', 'center', 'justify')],
  'vertical-align': [oneOf('top', 'middle', 'bottom', 'baseline')],
  'font-weight': [oneOf('normal', 'bold', 'bolder', 'lighter', '[1-9]00')],
  'font-style': [oneOf('normal', 'italic')],
  'font-size': [lengths(1)],
  'font-family': [/^[a-z0-9 ,'"-]{1,200}$/i],
  'line-height': [lengths(1)],
  'text-decoration': [oneOf('none', 'underline', 'line-through', 'overline')],
  width: [lengths(1)],
  height: [lengths(1)],
  'max-width': [lengths(1)],
  'min-width': [lengths(1)],
  margin: [lengths(4)],
  'margin-top': [lengths(1)],
  'margin-right': [lengths(1)],
  'margin-bottom': [lengths(1)],
  'margin-left': [lengths(1)],
  padding: [lengths(4)],
  'padding-top': [lengths(1)],
  'padding-right': [lengths(1)],
  'padding-bottom': [lengths(1)],
  'padding-left': [lengths(1)],
  border: [border],
  'border-top': [border],
  'border-right': [border],
  'border-bottom': [border],
  'border-left': [border],
  'border-collapse': [oneOf('collapse', 'separate')],
  'border-radius': [lengths(4)],
  display: [oneOf('block', 'inline', 'inline-block', 'none', 'table', 'table-row', 'table-cell')],
};

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const TABLE_PARTS = ['table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'colgroup', 'col'];
const CELL_ATTRIBUTES = ['colspan', 'rowspan', 'align', 'valign', 'width', 'height', 'style'];

const EMAIL_HTML_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'hr',
    'div',
    'span',
    'b',
    'i',
    'strong',
    'em',
    'u',
    's',
    'strike',
    'sub',
    'sup',
    'small',
    'a',
    'ul',
    'ol',
    'li',
    'blockquote',
    'pre',
    'code',
    'img',
    ...HEADINGS,
    ...TABLE_PARTS,
  ],
  allowedAttributes: {
    a: ['href', 'title', 'style'],
    img: ['src', 'alt', 'width', 'height'],
    ol: ['start', 'style'],
    table: ['width', 'border', 'cellpadding', 'cellspacing', 'align', 'style'],
    td: CELL_ATTRIBUTES,
    th: CELL_ATTRIBUTES,
    tr: ['align', 'valign', 'style'],
    col: ['span', 'width'],
    colgroup: ['span', 'width'],
    ...Object.fromEntries(['p', 'div', ...HEADINGS].map((tag) => [tag, ['align', 'style']])),
    ...Object.fromEntries(
      ['span', 'b', 'i', 'strong', 'em', 'u', 's', 'small', 'ul', 'li', 'blockquote', 'pre', 'code', 'thead', 'tbody', 'tfoot', 'caption'].map((tag) => [
        tag,
        ['style'],
      ]),
    ),
  },
  allowedStyles: { '*': SAFE_STYLES },
  // Links may point to the web, mail or phone; images only to the web or an attached part (`cid:`). `data:` URLs
  // are dropped everywhere: an image one is a common way to smuggle content past filters and is blocked by most
  // mail clients anyway.
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['http', 'https', 'cid'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  // Tags whose text must go with them, not just their markup.
  nonTextTags: [
    'script',
    'style',
    'textarea',
    'option',
    'noscript',
    'title',
    'iframe',
    'object',
    'embed',
    'noembed',
    'noframes',
    'template',
    'svg',
    'math',
    'select',
  ],
  disallowedTagsMode: 'discard',
};

/**
 * Encodes the two character sequences that scanners and naive consumers treat as script (`javascript:` and
 * ` on…=`) where they survive as plain text or inside an allowed attribute's value. The markup is already safe;
 * the entity-encoded character renders the same, so the reader sees no difference.
 */
function encodeScriptLikeText(html: string): string {
  return html.replace(/(javascript|vbscript)\s*:/gi, '$1&#58;').replace(/(\son\w+\s*)=/gi, '$1&#61;');
}

/**
 * Cleans HTML for an email: keeps ordinary formatting (paragraphs, emphasis, links, lists, headings, tables,
 * images and a safe subset of inline styles) and removes scripts, event handlers, `javascript:`/`vbscript:`/`data:`
 * URLs, iframes, forms and inputs, `<style>`, `<object>`, `<embed>`, `<base>` and `<meta>`.
 *
 * @example sanitizeEmailHtml('<p onclick="x()">Hi <script>x()</script></p>') // '<p>Hi </p>'
 */
export function sanitizeEmailHtml(html: string): string {
  return encodeScriptLikeText(sanitizeHtml(html, EMAIL_HTML_OPTIONS));
}

const BLOCK_TAGS = new Set(['p', 'div', 'blockquote', 'pre', 'table', 'tr', 'ul', 'ol', 'hr', 'caption', ...HEADINGS]);

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] !== '#') return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(String.raw`\s${name}="([^"]*)"`).exec(attributes);
  return match ? decodeEntities(match[1]) : undefined;
}

/**
 * A plain-text rendering of an HTML body, for the text part when none is given. The HTML is sanitised first, so
 * what is read is well-formed markup of the allowed tags only; block elements become line breaks, list items
 * `- ` lines, table cells are separated by two spaces, links keep their target in brackets, and images their
 * alt text.
 *
 * @example htmlToText('<p>Hi <a href="https://x.test">there</a></p><ul><li>One</li></ul>') // 'Hi there (https://x.test)\n\n- One'
 */
export function htmlToText(html: string): string {
  const clean = sanitizeEmailHtml(html);
  let out = '';
  let preDepth = 0;
  const linkTargets: (string | undefined)[] = [];
  const linkTextStarts: number[] = [];
  // Sanitised markup escapes `<` and `>` everywhere except in tags, so this split into tags and text is exact.
  for (const [, closing, tagName, attributes, text] of clean.matchAll(/<(\/?)([a-z0-9]+)([^>]*)>|([^<]+)/gi)) {
    if (text !== undefined) {
      const decoded = decodeEntities(text);
      out += preDepth > 0 ? decoded : decoded.replace(/\s+/g, ' ');
      continue;
    }
    const tag = tagName.toLowerCase();
    if (tag === 'pre') preDepth += closing ? -1 : 1;
    if (tag === 'br') out += '\n';
    else if (tag === 'li' && !closing) out += '\n- ';
    else if ((tag === 'td' || tag === 'th') && closing) out += '  ';
    else if (tag === 'hr') out += '\n\n---\n\n';
    else if (tag === 'img') {
      const alt = attribute(attributes, 'alt');
      if (alt) out += `[${alt}]`;
    } else if (tag === 'a' && !closing) {
      linkTargets.push(attribute(attributes, 'href'));
      linkTextStarts.push(out.length);
    } else if (tag === 'a' && closing) {
      const href = linkTargets.pop();
      const linkText = out.slice(linkTextStarts.pop() ?? out.length).trim();
      // A bare URL as link text needs no repeat; `mailto:` links show the address.
      const target = href?.replace(/^mailto:/i, '');
      if (target && target !== linkText) out += ` (${target})`;
    } else if (BLOCK_TAGS.has(tag)) out += '\n\n';
  }
  return out
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, '').replace(/^ (?=\S)/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
