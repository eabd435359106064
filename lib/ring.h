/* ring: being written. */
