/* seq-xlate: being written. */
