/* ctl-msg: being written. */
