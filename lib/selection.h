/* selection: being written. */
