import { describe, expect, it } from 'vitest';
import { repeatedReads } from './dynamo-keys.js';

describe('repeatedReads', () => {
  it('finds an item read twice by Get or BatchGet, and ignores queries and writes naming it', () => {
    expect(
      repeatedReads([
        { command: 'GetItemCommand', keys: ['CO#a|COMPANY'] },
        { command: 'BatchGetItemCommand', keys: ['CO#a#CL#b|CLIENT', 'CO#a|COMPANY'] },
        { command: 'GetItemCommand', keys: ['CO#a#CL#b|TXN#t'] },
        { command: 'QueryCommand', keys: ['PK = "CO#a#CL#b"'] },
        { command: 'TransactWriteItemsCommand', keys: ['Put:CO#a#CL#b|TXN#t'] },
      ]),
    ).toEqual(['CO#a|COMPANY']);
    expect(repeatedReads([{ command: 'GetItemCommand', keys: ['CO#a|COMPANY'] }])).toEqual([]);
  });
});
