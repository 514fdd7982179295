/**
 * options/func-caller: the function tracer's parent is the direct caller
 * even when the caller is not traced, as the kernel's `<-parent` is (it
 * reads the return address). A JavaScript function's caller is known only
 * if the caller's site did something: with this option an ops of this
 * callback covers every function the tracer does not, so every function
 * pushes a frame and the next call's parent is its direct caller.
 *
 * Owns: nothing; the callback does nothing on purpose (the frame the core
 * pushes for any ops call is the point). Invariant: it costs every
 * untraced function an ops call, which is why it is an option (off by
 * default) and why the text says when a parent is only the nearest traced
 * caller (FN_NEAREST).
 */

export function callerFrame(): void {
  // The frame the core pushed for this call is what the tracer reads as its callees' parent.
}
