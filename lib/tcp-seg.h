/* tcp-seg: being written. */
