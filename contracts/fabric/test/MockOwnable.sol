// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// A protocol contract sold by handing over its ownership in one step (OpenZeppelin's Ownable).
contract MockOwnable is Ownable {
    uint256 public fee;

    constructor(address initialOwner) Ownable(initialOwner) {}

    function setFee(uint256 fee_) external onlyOwner {
        fee = fee_;
    }
}
