'use strict'

// Durations as users write them: a number of seconds, or a string like '30s', '12h', '7 days'.

const UNITS = {
  ms: 0.001,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  y: 31557600,
  yr: 31557600,
  yrs: 31557600,
  year: 31557600,
  years: 31557600,
}

/** Seconds from a number of seconds or a duration string; TypeError/RangeError naming the option. */
function seconds(value, name, { min = 0 } = {}) {
  let result = value
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(value.trim())
    const unit = match && (match[2] === undefined ? 1 : UNITS[match[2].toLowerCase()])
    if (!match || unit === undefined) throw new TypeError(`${name} must be a number of seconds or a string like '30s' or '12h'`)
    result = Number(match[1]) * unit
  } else if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number of seconds or a string like '30s' or '12h'`)
  }
  if (!Number.isFinite(result) || result < min) throw new RangeError(`${name} must be a finite number >= ${min}`)
  return result
}

module.exports = { seconds }
