import { InvalidArgumentError } from 'commander'

// Value parsers shared by the option modules. No flag has a commander default: converters apply
// defaults, so "not given" stays visible to them (and to profiles).

export function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/u.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    }
    return Number(value)
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** Help text naming the default a converter applies, in commander's own format. */
export function withDefault(description: string, value: string | number): string {
  return `${description} (default: ${JSON.stringify(value)})`
}
