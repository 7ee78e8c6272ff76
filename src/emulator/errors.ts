/** A refused control operation of an emulator; `status` is the HTTP status the control API answers with. */
export class EmulatorControlError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = "EmulatorControlError"
    this.status = status
    this.code = code
  }
}
