/* maglev: being written. */
