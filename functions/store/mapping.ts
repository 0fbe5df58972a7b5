import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';

/**
 * An item as DynamoDB hands it back. Its attributes have no types until an entity's `fromItem` reads them, naming
 * each field it takes, so key and index attributes and the store's own bookkeeping never leak into an entity.
 */
export type StoredItem = Record<string, NativeAttributeValue>;

/**
 * Every field of `T` named, optional ones too (their value may be `undefined`): a `fromItem` that builds one stops
 * compiling when the entity gains a field the mapper does not read, instead of silently dropping it.
 */
export type EveryField<T> = { [K in keyof Required<T>]: T[K] };

export interface AttributeUpdate {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * An update that sets each attribute given and removes each one given as `undefined`, leaving every other attribute
 * of the item alone (the store's own flags, such as a client's `deleting` or `mergingInto`, which a Put would drop).
 * `extraValues` are added for the caller's condition.
 */
export function setAttributes(attributes: Record<string, unknown>, extraValues: Record<string, unknown> = {}): AttributeUpdate {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...extraValues };
  const sets: string[] = [];
  const removes: string[] = [];
  Object.entries(attributes).forEach(([name, value], i) => {
    names[`#a${i}`] = name;
    if (value === undefined) {
      removes.push(`#a${i}`);
    } else {
      values[`:a${i}`] = value;
      sets.push(`#a${i} = :a${i}`);
    }
  });
  const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
  return { UpdateExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}
