import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { htmlToText, sanitizeEmailHtml } from '../../../functions/domain/email/sanitize.js';

describe('sanitizeEmailHtml', () => {
  it('removes script elements together with their content', () => {
    expect(sanitizeEmailHtml('<p>Hi<script>alert(1)</script></p><SCRIPT src="x.js"></SCRIPT>')).toBe('<p>Hi</p>');
  });

  it('removes event handler attributes and keeps the element', () => {
    expect(sanitizeEmailHtml('<p onclick="steal()" style="color: red">Pay</p><img src="https://x.test/a.png" onerror="x()">')).toBe(
      '<p style="color:red">Pay</p><img src="https://x.test/a.png" />',
    );
  });

  it('removes javascript:, vbscript: and data: URLs, however they are spelt', () => {
    const html = [
      '<a href="javascript:alert(1)">a</a>',
      '<a href="JaVaScRiPt&#58;alert(1)">b</a>',
      '<a href="  java\tscript:alert(1)">c</a>',
      '<a href="vbscript:msgbox(1)">d</a>',
      '<a href="data:text/html;base64,PHNjcmlwdD4=">e</a>',
      '<img src="data:image/png;base64,iVBORw0KGgo=" alt="f">',
    ].join('');
    expect(sanitizeEmailHtml(html)).toBe('<a>a</a><a>b</a><a>c</a><a>d</a><a>e</a><img alt="f" />');
  });

  it('removes iframes, forms and inputs, style, object, embed, base and meta elements', () => {
    const html =
      '<iframe src="https://evil.test">fallback</iframe><form action="https://evil.test"><input name="card"><button>Send</button></form>' +
      '<style>body{background:url(https://evil.test)}</style><object data="x.swf"></object><embed src="x.swf">' +
      '<base href="https://evil.test/"><meta http-equiv="refresh" content="0;url=https://evil.test">';
    const clean = sanitizeEmailHtml(html);
    for (const tag of ['iframe', 'form', 'input', 'button', 'style', 'object', 'embed', 'base', 'meta']) expect(clean).not.toContain(`<${tag}`);
    expect(clean).not.toContain('fallback');
    expect(clean).not.toContain('background');
  });

  it('keeps ordinary formatting, links, lists, headings, tables and images', () => {
    const html =
      '<h1>Invoice</h1><h3>Details</h3><p>Dear <b>Ada</b>, <i>thanks</i> <strong>so</strong> <em>much</em> <u>indeed</u>.<br />Bye</p>' +
      '<p><a href="https://billow.test/pay?invoice=1&amp;x=2">Pay now</a> or <a href="mailto:billing@billow.test">write to us</a></p>' +
      '<ul><li>One</li></ul><ol><li>Two</li></ol>' +
      '<table border="1" cellpadding="4"><thead><tr><th>Item</th></tr></thead><tbody><tr><td colspan="2" align="right">$1.00</td></tr></tbody></table>' +
      '<img src="https://billow.test/logo.png" alt="Logo" width="120" height="40" />' +
      '<div style="text-align:center;padding:4px 8px"><span style="font-weight:bold;color:#333333">Centred</span></div>';
    expect(sanitizeEmailHtml(html)).toBe(html);
  });

  it('keeps only the safe subset of inline styles', () => {
    expect(
      sanitizeEmailHtml(
        '<div style="color: red; background: url(https://evil.test/t.gif); width: expression(alert(1)); position: fixed; margin: 0 auto">x</div>',
      ),
    ).toBe('<div style="color:red;margin:0 auto">x</div>');
  });

  it('leaves plain text readable while encoding script-like sequences in it', () => {
    expect(sanitizeEmailHtml('Type javascript: here, or onload=1')).toBe('Type javascript&#58; here, or onload&#61;1');
  });

  it('never lets script, event handlers or javascript: through, whatever the input (fuzz)', () => {
    const fragments = fc.constantFrom(
      '<script>',
      '</script>',
      '<SCRIPT ',
      '<scr',
      'ipt>',
      'javascript:',
      'JaVaScRiPt:',
      'javas',
      'cript:',
      'java\tscript:',
      '&#58;',
      '&#x3A;',
      ' onclick=',
      ' onload="',
      ' on',
      'error=',
      'ONMOUSEOVER=',
      '<img src=x onerror=alert(1)>',
      '<a href="',
      '<a href=',
      '">',
      "'",
      '"',
      '<',
      '>',
      '=',
      '/',
      '<iframe src=',
      '<svg onload=',
      '<math>',
      '<!--',
      '-->',
      '<![CDATA[',
      ']]>',
      '<style>',
      '<b title="',
      '<p style="',
      'color:red;',
      '\n',
      ' ',
      '<form>',
      '<input ',
      '&lt;',
      '&amp;',
      '<base href=',
      'data:text/html,',
      '<div>',
      '</div>',
    );
    const input = fc.array(fc.oneof(fragments, fc.string({ maxLength: 8 })), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(input, (html) => {
        const clean = sanitizeEmailHtml(html);
        expect(clean).not.toMatch(/<script/i);
        expect(clean).not.toMatch(/ on\w+=/i);
        expect(clean).not.toMatch(/javascript:/i);
        // Cleaning clean output changes nothing that matters: still safe.
        expect(sanitizeEmailHtml(clean)).not.toMatch(/<script| on\w+=|javascript:/i);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('htmlToText', () => {
  it('turns blocks into paragraphs, line breaks into new lines, and list items into dashes', () => {
    expect(htmlToText('<h1>Invoice</h1><p>Hello<br>Ada</p><ul><li>One</li><li>Two</li></ul><p>Bye</p>')).toBe('Invoice\n\nHello\nAda\n\n- One\n- Two\n\nBye');
  });

  it('keeps link targets and image alt text, and does not repeat a URL shown as the link text', () => {
    expect(
      htmlToText(
        '<p><a href="https://x.test/pay">Pay</a>, <a href="https://x.test">https://x.test</a>, <a href="mailto:a@x.test">a@x.test</a> <img src="https://x.test/l.png" alt="Logo"></p>',
      ),
    ).toBe('Pay (https://x.test/pay), https://x.test, a@x.test [Logo]');
  });

  it('decodes entities, drops scripts and styles, and collapses whitespace', () => {
    expect(htmlToText('<style>p{}</style><p>  Fish  &amp;\n chips &lt;3 &#8364;5 </p><script>alert(1)</script>')).toBe('Fish & chips <3 €5');
  });

  it('separates table cells and rows', () => {
    expect(htmlToText('<table><tr><th>Item</th><th>Total</th></tr><tr><td>Hosting</td><td>$10.00</td></tr></table>')).toBe('Item  Total\n\nHosting  $10.00');
  });

  it('keeps preformatted text as it is', () => {
    expect(htmlToText('<pre>a   b\n  c</pre>')).toBe('a   b\n  c');
  });
});
