import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  civilFromDays,
  daysFromCivil,
  formatDate,
  formatDecimal,
  formatTime,
  formatTimestampIso,
  formatTimestampLiteral,
  inetBytesToText,
  inetTextToBytes,
  MAX_DATE_DAYS,
  MAX_TIMESTAMP_MS,
  MIN_DATE_DAYS,
  parseDateText,
  parseDecimalText,
  parseInetText,
  parseTimestampText,
  parseTimeText,
  shortestFloat32,
} from '../../../src/schema/value-formats.js';

describe('calendar', () => {
  it('agrees with Date.UTC where Date reaches, including before 1970 and leap days', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000_000, max: 100_000_000 }), (days) => {
        const c = civilFromDays(days);
        expect(Date.UTC(c.year, c.month - 1, c.day) / 86_400_000).toBe(days);
        expect(daysFromCivil(c.year, c.month, c.day)).toBe(days);
      }),
      { numRuns: 500 },
    );
    expect(formatDate(0)).toBe('1970-01-01');
    expect(formatDate(-1)).toBe('1969-12-31');
    expect(formatDate(daysFromCivil(2024, 2, 29))).toBe('2024-02-29');
  });

  it('formats and reads the extreme dates with signed years', () => {
    expect(formatDate(MIN_DATE_DAYS)).toBe('-5877641-06-23');
    expect(formatDate(MAX_DATE_DAYS)).toBe('+5881580-07-11');
    expect(parseDateText('-5877641-06-23')).toEqual({ days: MIN_DATE_DAYS });
    expect(parseDateText('+5881580-07-11')).toEqual({ days: MAX_DATE_DAYS });
    expect(parseDateText('+5881580-07-12')).toEqual({ error: 'format' });
    expect(formatDate(daysFromCivil(-1, 1, 1))).toBe('-0001-01-01');
    expect(formatDate(daysFromCivil(10000, 1, 1))).toBe('+10000-01-01');
  });
});

describe('date text', () => {
  it('reads YYYY-MM-DD and raw unsigned day numbers (epoch at 2^31)', () => {
    expect(parseDateText('1970-01-01')).toEqual({ days: 0 });
    expect(parseDateText('1969-12-31')).toEqual({ days: -1 });
    expect(parseDateText('2147483648')).toEqual({ days: 0 });
    expect(parseDateText('0')).toEqual({ days: MIN_DATE_DAYS });
    expect(parseDateText('4294967295')).toEqual({ days: MAX_DATE_DAYS });
  });

  it('refuses impossible dates and out-of-range raw values', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '2024-00-10', '2024-1-1', '24-01-01', '2024-01-01 ', 'x']) {
      expect(parseDateText(bad), bad).toEqual({ error: 'format' });
    }
    expect(parseDateText('4294967296')).toEqual({ error: 'raw' });
    expect(parseDateText('-1')).toEqual({ error: 'raw' });
  });
});

describe('timestamp text', () => {
  const noon = Date.UTC(2024, 4, 1, 12);
  it('reads every Cassandra form, UTC when no zone is given', () => {
    const cases: Array<[string, number]> = [
      ['2024-05-01', Date.UTC(2024, 4, 1)],
      ['2024-05-01 12:00', noon],
      ['2024-05-01 12:00:00', noon],
      ['2024-05-01T12:00:00.123Z', noon + 123],
      ['2024-05-01T12:00:00.5Z', noon + 500],
      ['2024-05-01 12:00:00.000+0000', noon],
      ['2024-05-01 13:00+0100', noon],
      ['2024-05-01 13:00:00+01:00', noon],
      ['2024-05-01 11:00-01', noon],
      ['2024-05-01 12:00 UTC', noon],
      ['2024-05-01 12:00:00 GMT', noon],
      ['2024-05-01+0000', Date.UTC(2024, 4, 1)],
      ['1969-12-31 23:59:59.999Z', -1],
      ['1714564800000', noon],
      ['-1', -1],
    ];
    for (const [text, ms] of cases) expect(parseTimestampText(text), text).toEqual({ ms });
  });

  it('refuses malformed text and out-of-range values', () => {
    for (const bad of ['2024-05-01 25:00', '2024-05-01 12:60', '2024-02-30', '2024-05-01T12:00:00.1234Z', '2024-05-01 12:00 +1900', 'now', '', '12:00']) {
      expect(parseTimestampText(bad), bad).toEqual({ error: 'format' });
    }
    expect(parseTimestampText(String(MAX_TIMESTAMP_MS + 1))).toEqual({ error: 'raw' });
    expect(parseTimestampText('99999999999999999999999')).toEqual({ error: 'raw' });
  });

  it('prints ISO and literal forms that read back', () => {
    expect(formatTimestampIso(noon)).toBe('2024-05-01T12:00:00.000Z');
    expect(formatTimestampLiteral(noon + 7)).toBe('2024-05-01 12:00:00.007+0000');
    expect(formatTimestampIso(-1)).toBe('1969-12-31T23:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min: -MAX_TIMESTAMP_MS, max: MAX_TIMESTAMP_MS }), (ms) => {
        expect(parseTimestampText(formatTimestampIso(ms))).toEqual({ ms });
        expect(parseTimestampText(formatTimestampLiteral(ms))).toEqual({ ms });
        if (Math.abs(ms) < 253_402_300_800_000 && ms > -62_167_219_200_000) expect(formatTimestampIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
  });
});

describe('time text', () => {
  it('reads hh:mm:ss[.fffffffff] and raw nanoseconds', () => {
    expect(parseTimeText('12:00:00')).toEqual({ nanos: 43_200_000_000_000n });
    expect(parseTimeText('1:02:03.5')).toEqual({ nanos: 3_723_500_000_000n });
    expect(parseTimeText('23:59:59.999999999')).toEqual({ nanos: 86_399_999_999_999n });
    expect(parseTimeText('42')).toEqual({ nanos: 42n });
    expect(parseTimeText('24:00:00')).toEqual({ error: 'format' });
    expect(parseTimeText('12:00:00.1234567890')).toEqual({ error: 'format' });
    expect(parseTimeText('12:00')).toEqual({ error: 'format' });
    expect(parseTimeText('86400000000000')).toEqual({ error: 'raw' });
  });

  it('prints nine fraction digits', () => {
    expect(formatTime(0n)).toBe('00:00:00.000000000');
    expect(formatTime(86_399_999_999_999n)).toBe('23:59:59.999999999');
    expect(formatTime(3_723_500_000_000n)).toBe('01:02:03.500000000');
  });
});

describe('inet text', () => {
  it('canonicalizes IPv6 per RFC 5952 and collapses IPv4-mapped addresses like Java', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['::', '::'],
      ['2001:0DB8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['0:0:1:0:0:0:0:0', '0:0:1::'],
      ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
      ['fe80::1:2', 'fe80::1:2'],
      ['::ffff:1.2.3.4', '1.2.3.4'],
      ['::FFFF:0102:0304', '1.2.3.4'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [text, canonical] of cases) expect(parseInetText(text), text).toBe(canonical);
  });

  it('refuses host names and malformed addresses', () => {
    for (const bad of ['localhost', '1.2.3', '1.2.3.256', '1.2.3.4.5', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::1%eth0', '[::1]', '1.2.3.4::', '', 'g::1']) {
      expect(parseInetText(bad), bad).toBeNull();
    }
  });

  it('keeps a 16-byte mapped address 16 bytes when reading stored values back', () => {
    const b = inetTextToBytes('::ffff:1.2.3.4', false)!;
    expect(b.length).toBe(16);
    expect(inetBytesToText(b)).toBe('::ffff:1.2.3.4');
  });
});

describe('decimal and float text', () => {
  it('reads Java BigDecimal syntax', () => {
    expect(parseDecimalText('1.50')).toEqual({ unscaled: 150n, scale: 2 });
    expect(parseDecimalText('-.5')).toEqual({ unscaled: -5n, scale: 1 });
    expect(parseDecimalText('2.')).toEqual({ unscaled: 2n, scale: 0 });
    expect(parseDecimalText('1e3')).toEqual({ unscaled: 1n, scale: -3 });
    expect(parseDecimalText('1.5E-7')).toEqual({ unscaled: 15n, scale: 8 });
    expect(parseDecimalText('+0')).toEqual({ unscaled: 0n, scale: 0 });
    for (const bad of ['', '.', 'e5', '1e', 'NaN', '1.2.3', '1e2147483649', '0x10']) expect(parseDecimalText(bad), bad).toBeNull();
  });

  it('prints like Cassandra: plain up to scale 100, then scientific', () => {
    expect(formatDecimal({ unscaled: 150n, scale: 2 })).toBe('1.50');
    expect(formatDecimal({ unscaled: -5n, scale: 3 })).toBe('-0.005');
    expect(formatDecimal({ unscaled: 1n, scale: -3 })).toBe('1000');
    expect(formatDecimal({ unscaled: 0n, scale: 0 })).toBe('0');
    expect(formatDecimal({ unscaled: 1n, scale: 101 })).toBe('1E-101');
    expect(formatDecimal({ unscaled: -123n, scale: -200 })).toBe('-1.23E+202');
    expect(formatDecimal({ unscaled: 1n, scale: 100 })).toBe('0.' + '0'.repeat(99) + '1');
  });

  it('finds the shortest decimal of a float32', () => {
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(3.4028234663852886e38))).toBe(3.4028235e38);
    expect(Object.is(shortestFloat32(-0), -0)).toBe(true);
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (f) => {
        expect(Math.fround(shortestFloat32(f))).toBe(f);
      }),
      { numRuns: 500 },
    );
  });
});
