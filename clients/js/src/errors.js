/** A transform URL the proxy would refuse with a 400; `option` names the offending option when there is one. */
export class UrlError extends Error {
  constructor(message, option = null) {
    super(message);
    this.name = "UrlError";
    this.option = option;
  }
}

export function optionError(option, problem) {
  return new UrlError(`${option}: ${problem}`, option);
}
